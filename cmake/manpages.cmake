# SPDX-License-Identifier: MIT
# Man pages generated from the markdown manuals (docs/<program>.md, written in
# man-page shape: NAME, SYNOPSIS, DESCRIPTION, ...) by lowdown (Debian package
# lowdown) at build time, and installed with the programs, so that
# `cmake --install` and the Debian packages install the same pages.
# KVMGRID_MAN_PAGES: AUTO (when lowdown is found), ON (required: the Debian build
# uses it, so a missing converter fails instead of shipping no page), OFF.
set(KVMGRID_MAN_PAGES AUTO CACHE STRING "Man pages from docs/*.md with lowdown: AUTO, ON, OFF")
set(KG_MAN_PAGES OFF)
if(NOT KVMGRID_MAN_PAGES STREQUAL "OFF")
  find_program(KVMGRID_LOWDOWN lowdown)
  if(KVMGRID_LOWDOWN)
    set(KG_MAN_PAGES ON)
  elseif(KVMGRID_MAN_PAGES STREQUAL "ON")
    message(FATAL_ERROR "KVMGRID_MAN_PAGES=ON but lowdown was not found (apt-get install lowdown)")
  else()
    message(STATUS "lowdown not found: no man pages (apt-get install lowdown)")
  endif()
endif()

# kg_add_man_page(PROGRAM SECTION): docs/PROGRAM.md -> PROGRAM.SECTION, installed
# into <mandir>/manSECTION.
function(kg_add_man_page prog section)
  if(NOT KG_MAN_PAGES)
    return()
  endif()
  set(md "${PROJECT_SOURCE_DIR}/docs/${prog}.md")
  set(page "${CMAKE_CURRENT_BINARY_DIR}/${prog}.${section}")
  add_custom_command(OUTPUT "${page}"
    COMMAND "${CMAKE_COMMAND}" "-DLOWDOWN=${KVMGRID_LOWDOWN}" "-DIN=${md}" "-DOUT=${page}"
            "-DTITLE=${prog}" "-DSECTION=${section}"
            "-DSOURCE=kvmgrid ${PROJECT_VERSION}"
            -P "${PROJECT_SOURCE_DIR}/cmake/md2man.cmake"
    DEPENDS "${md}" "${PROJECT_SOURCE_DIR}/cmake/md2man.cmake"
    COMMENT "man page ${prog}(${section})" VERBATIM)
  add_custom_target(man-${prog} ALL DEPENDS "${page}")
  install(FILES "${page}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${section}")
endfunction()
