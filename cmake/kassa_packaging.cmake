# Debian packages from the existing builds (CPack's DEB generator): `kassa`
# (kassad, kassactl, the screens) for amd64, arm64 and armhf, and `kassa-hq`
# for amd64 and arm64. In a build directory, `cpack -G DEB` makes them;
# tests/packaging/check_debs.sh checks them in the test command.
#
# Depends: computed by dpkg-shlibdeps where dpkg knows the architecture
# (amd64, and arm64 through multiarch); armhf is never added to dpkg here, so
# its list is written below and the test checks it against the binaries'
# NEEDED entries.
include(GNUInstallDirs)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(kassa_deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  set(kassa_deb_arch armhf)
else()
  set(kassa_deb_arch amd64)
endif()
set(KASSA_DEB_ARCH ${kassa_deb_arch} CACHE INTERNAL "the Debian architecture of this build")

install(TARGETS kassad kassactl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT terminal)
install(DIRECTORY ui/ DESTINATION ${CMAKE_INSTALL_DATADIR}/kassa/ui COMPONENT terminal)
install(FILES packaging/systemd/kassad.service DESTINATION /lib/systemd/system COMPONENT terminal)
install(FILES packaging/default/kassad DESTINATION /etc/default COMPONENT terminal)
install(FILES packaging/debian/copyright README.md docs/OPERATIONS.md docs/PRIVACY.md docs/API.md
              config/store.sample.json config/devices.sample.json config/clienteling.sample.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/kassa COMPONENT terminal)
# The Debian changelog each package carries (a native package's, one entry
# for this version), compressed as policy asks.
string(TIMESTAMP kassa_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/packaging)
file(WRITE ${CMAKE_BINARY_DIR}/packaging/changelog
     "kassa (${PROJECT_VERSION}) unstable; urgency=medium\n\n"
     "  * Built from the kassa repository; its git history is the change log.\n\n"
     " -- kassa maintainers <kassa@example.invalid>  ${kassa_changelog_date}\n")
execute_process(COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/packaging/changelog RESULT_VARIABLE kassa_gzip)
if(NOT kassa_gzip EQUAL 0)
  message(FATAL_ERROR "gzip of the Debian changelog failed")
endif()
install(FILES ${CMAKE_BINARY_DIR}/packaging/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/kassa COMPONENT terminal)
# Manual pages, compressed as policy asks.
foreach(page kassad kassactl kassa-hq)
  configure_file(packaging/man/${page}.1 ${CMAKE_BINARY_DIR}/packaging/${page}.1 COPYONLY)
  execute_process(COMMAND gzip -9nf ${CMAKE_BINARY_DIR}/packaging/${page}.1 RESULT_VARIABLE kassa_gzip)
  if(NOT kassa_gzip EQUAL 0)
    message(FATAL_ERROR "gzip of the manual page ${page}.1 failed")
  endif()
endforeach()
install(FILES ${CMAKE_BINARY_DIR}/packaging/kassad.1.gz ${CMAKE_BINARY_DIR}/packaging/kassactl.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT terminal)
set(kassa_components terminal)
if(NOT kassa_deb_arch STREQUAL armhf)  # handhelds run the terminal only
  install(TARGETS kassa-hq RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT hq)
  install(FILES packaging/systemd/kassa-hq.service DESTINATION /lib/systemd/system COMPONENT hq)
  install(FILES ${CMAKE_BINARY_DIR}/packaging/kassa-hq.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT hq)
  install(FILES packaging/default/kassa-hq DESTINATION /etc/default COMPONENT hq)
  install(FILES packaging/debian/copyright docs/OPERATIONS.md docs/SCALING.md config/chain.sample.json
                ${CMAKE_BINARY_DIR}/packaging/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/kassa-hq COMPONENT hq)
  list(APPEND kassa_components hq)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kassa)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "kassa")
set(CPACK_PACKAGE_CONTACT "kassa maintainers <kassa@example.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the RelWithDebInfo build's debug sections stay in the build directory
set(CPACK_COMPONENTS_ALL ${kassa_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${kassa_deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/kassa")

set(CPACK_DEBIAN_TERMINAL_PACKAGE_NAME kassa)
string(CONCAT CPACK_COMPONENT_TERMINAL_DESCRIPTION
    "terminal daemon of a retail customer service: kassad, kassactl, screens\n"
    "kassad keeps a point-of-sale terminal's customers (sealed at rest in LMDB),\n"
    "drives its scanner, card reader, receipt printer and customer display,\n"
    "serves the local API and screens on loopback, and links to kassa-hq over\n"
    "mutual TLS. Licence: Apache-2.0.")
set(CPACK_DEBIAN_TERMINAL_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst;${PROJECT_SOURCE_DIR}/packaging/debian/kassa/conffiles")
set(CPACK_DEBIAN_HQ_PACKAGE_NAME kassa-hq)
string(CONCAT CPACK_COMPONENT_HQ_DESCRIPTION
    "headquarters of a retail customer service: the chain's system of record\n"
    "kassa-hq numbers accounts, applies every terminal's changes and\n"
    "distributes them to every terminal, on an embedded LMDB store or on\n"
    "PostgreSQL. Licence: Apache-2.0.")
set(CPACK_DEBIAN_HQ_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst;${PROJECT_SOURCE_DIR}/packaging/debian/kassa-hq/conffiles")
set(CPACK_DEBIAN_TERMINAL_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_HQ_PACKAGE_DEPENDS "adduser")
if(kassa_deb_arch STREQUAL armhf)
  # Checked against the binaries' NEEDED entries by tests/packaging/check_debs.sh.
  set(CPACK_DEBIAN_TERMINAL_PACKAGE_DEPENDS
      "adduser, libc6 (>= 2.36), libgcc-s1 (>= 3.5), libstdc++6 (>= 12), liblmdb0 (>= 0.9.24), libutf8proc2 (>= 2.8.0), libssl3 (>= 3.0.0)")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
include(CPack)
