# SPDX-License-Identifier: MIT
# Install rules whose destination or content depends on the prefix: the example
# configs (prefix /usr -> /etc/kvmgrid, /usr/local -> /usr/local/etc/kvmgrid) and
# the systemd units (ExecStart names the installed program). Both are resolved at
# install time (cmake/install-time.cmake), so `cmake --install build --prefix /usr`
# after a configure with the default prefix still installs /etc/kvmgrid/... and
# a unit that runs /usr/sbin/kvmgrid-agent.
set(KVMGRID_SYSTEMD_SYSTEM_UNIT_DIR "lib/systemd/system" CACHE STRING
    "systemd system units: absolute, or relative to the install prefix (Debian 12 packages: /lib/systemd/system)")
set(KVMGRID_SYSTEMD_USER_UNIT_DIR "lib/systemd/user" CACHE STRING
    "systemd user units: absolute, or relative to the install prefix")

set(KG_INSTALL_TIME "${PROJECT_SOURCE_DIR}/cmake/install-time.cmake")

# kg_install_config(SRC NAME): SRC installed as <sysconfdir>/kvmgrid/NAME.
function(kg_install_config src name)
  get_filename_component(src "${src}" ABSOLUTE)
  install(CODE "include(\"${KG_INSTALL_TIME}\")
kg_install_sysconf(\"${src}\" \"${name}\" \"${CMAKE_INSTALL_SYSCONFDIR}\")")
endfunction()

# kg_install_unit(TEMPLATE system|user MANPAGE): TEMPLATE (NAME.service.in)
# rendered at install time and installed into the system or user unit
# directory. Documentation= is the man page MANPAGE (e.g. kvmgrid-agent(8))
# when man pages are installed, else the markdown manual in the doc directory.
function(kg_install_unit template kind manpage)
  get_filename_component(template "${template}" ABSOLUTE)
  get_filename_component(unit "${template}" NAME_WLE)
  if(kind STREQUAL "system")
    set(dir "${KVMGRID_SYSTEMD_SYSTEM_UNIT_DIR}")
  else()
    set(dir "${KVMGRID_SYSTEMD_USER_UNIT_DIR}")
  endif()
  if(KG_MAN_PAGES)
    set(doc "man:${manpage}")
  else()
    string(REGEX REPLACE "\\(.*" "" prog "${manpage}")
    set(doc "file://@DOCDIR@/${prog}.md")
  endif()
  install(CODE "include(\"${KG_INSTALL_TIME}\")
kg_install_unit(\"${template}\" \"${CMAKE_CURRENT_BINARY_DIR}/install/${unit}\" \"${dir}\"
  \"${doc}\" \"${CMAKE_INSTALL_BINDIR}\" \"${CMAKE_INSTALL_SBINDIR}\"
  \"${CMAKE_INSTALL_SYSCONFDIR}\" \"${CMAKE_INSTALL_DOCDIR}\")")
endfunction()
