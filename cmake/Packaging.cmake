# SPDX-License-Identifier: MIT
# The .deb: `cpack -G DEB` or `cmake --build build --target package` in a build directory.
# Runtime dependencies come from dpkg-shlibdeps over the installed binary (dpkg-dev), so
# whatever portex links (libevent, http-parser, and any library added later) is declared.

include(GNUInstallDirs)

# Debian installs man pages compressed (gzip -9n: no name or time stamp, reproducible).
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/portex.1.gz
  COMMAND gzip -9n -c ${CMAKE_SOURCE_DIR}/portex.1 > ${CMAKE_BINARY_DIR}/portex.1.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/portex.1)
add_custom_target(manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/portex.1.gz)
install(FILES ${CMAKE_BINARY_DIR}/portex.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES completions/portex.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME portex)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME portex)
set(CPACK_PACKAGE_VENDOR "portex")
set(CPACK_PACKAGE_CONTACT "portex maintainers <portex@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "short-connection HTTP load generator that shows ephemeral port exhaustion")
set(CPACK_PACKAGE_DESCRIPTION
    "portex opens and closes TCP connections against an HTTP server at a fixed rate or\n\
concurrency, names every failure by its cause (EADDRNOTAVAIL: no free local port),\n\
counts the TIME_WAIT sockets a run leaves and puts the ceiling it hit beside the one\n\
the kernel's rules predict. portex lab reproduces port exhaustion in network namespaces.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# https:// verifies against the system CA store unless --cacert or --insecure.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

include(CPack)
