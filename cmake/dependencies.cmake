# SPDX-License-Identifier: MIT
# Every dependency comes from a Debian 12 package listed in third_party/packages.txt,
# found through its CMake config or its pkg-config file.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
# Paho's CMake config needs OpenSSL found first, and takes no version (docs/PLATFORM.md: Paho, CMake).
find_package(OpenSSL REQUIRED)
find_package(eclipse-paho-mqtt-c REQUIRED)
find_package(cJSON REQUIRED)
pkg_check_modules(LIBVIRT REQUIRED IMPORTED_TARGET libvirt)
if(KVMGRID_BUILD_VIEWER)
  pkg_check_modules(SDL2 REQUIRED IMPORTED_TARGET sdl2 SDL2_ttf SDL2_image)
  # kvmgrid-top, the viewer's terminal front end: ncurses with wide characters
  pkg_check_modules(NCURSESW REQUIRED IMPORTED_TARGET ncursesw)
endif()
if(KVMGRID_BUILD_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
  find_program(MOSQUITTO_BIN mosquitto PATHS /usr/sbin /usr/local/sbin REQUIRED)
  find_program(MOSQUITTO_PUB mosquitto_pub REQUIRED)
  find_program(MOSQUITTO_SUB mosquitto_sub REQUIRED)
endif()
