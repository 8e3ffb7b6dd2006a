# Cross build for armhf handhelds. The target libraries are NOT installed
# through dpkg (armhf multiarch breaks apt on these machines): scripts/setup
# --armhf (scripts/fetch-armhf) downloads the few :armhf packages with a
# private apt configuration and extracts them with dpkg -x under
# KASSA_ARMHF_ROOT (default .deps/armhf in the source tree), which this file
# adds to the search roots.
# Tests run under qemu-arm with that folder as the loader's root.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# GCC notes that std::vector iterators are passed differently than before GCC
# 7.1; everything here is built by one compiler, so the note is noise.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
if(NOT DEFINED KASSA_ARMHF_ROOT)
  set(KASSA_ARMHF_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.deps/armhf")
endif()
get_filename_component(KASSA_ARMHF_ROOT "${KASSA_ARMHF_ROOT}" ABSOLUTE)
set(CMAKE_FIND_ROOT_PATH ${KASSA_ARMHF_ROOT} /usr/arm-linux-gnueabihf /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Multiarch headers of the extracted packages (OpenSSL's opensslconf.h and
# configuration.h live there), which the cross compiler does not search.
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES ${KASSA_ARMHF_ROOT}/usr/include/arm-linux-gnueabihf)
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES ${KASSA_ARMHF_ROOT}/usr/include/arm-linux-gnueabihf)
set(ENV{PKG_CONFIG_LIBDIR} ${KASSA_ARMHF_ROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${KASSA_ARMHF_ROOT})
# The cross toolchain's sysroot holds libc and libstdc++; the extracted
# folder holds liblmdb.so.0, found through the guest's LD_LIBRARY_PATH.
set(CMAKE_CROSSCOMPILING_EMULATOR
    /usr/bin/qemu-arm;-L;/usr/arm-linux-gnueabihf;-E;LD_LIBRARY_PATH=${KASSA_ARMHF_ROOT}/usr/lib/arm-linux-gnueabihf)

find_program(KASSA_CROSS_CXX arm-linux-gnueabihf-g++)
if(NOT KASSA_CROSS_CXX)
  message(FATAL_ERROR "arm-linux-gnueabihf-g++ is missing: run scripts/setup --armhf")
endif()
if(NOT EXISTS ${KASSA_ARMHF_ROOT}/usr/include/lmdb.h)
  message(FATAL_ERROR "armhf target libraries are missing under ${KASSA_ARMHF_ROOT}: run scripts/setup --armhf")
endif()
