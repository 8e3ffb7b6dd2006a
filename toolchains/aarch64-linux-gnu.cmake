# Cross build for aarch64 kiosks (Debian multiarch: the target libraries are
# installed as :arm64 packages by scripts/setup --arm64). Tests run under
# qemu-aarch64 through CMAKE_CROSSCOMPILING_EMULATOR.
#
# Do not pass -L /usr/aarch64-linux-gnu to qemu: with the multiarch libc6:arm64
# installed, the cross sysroot's loader makes threaded programs spin forever.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # protoc, nanopb generator: host tools
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)    # the host's Boost headers serve the target
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64)

find_program(KASSA_CROSS_CXX aarch64-linux-gnu-g++)
if(NOT KASSA_CROSS_CXX)
  message(FATAL_ERROR "aarch64-linux-gnu-g++ is missing: run scripts/setup --arm64")
endif()
