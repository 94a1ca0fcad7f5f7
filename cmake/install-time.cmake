# SPDX-License-Identifier: MIT
# Runs inside cmake_install.cmake, i.e. when installing, not when configuring:
# `cmake --install build --prefix P` may name another prefix than the configure
# step did, and the configuration directory and the paths written into the
# systemd units must follow the prefix that is actually installed to.
# cmake/install.cmake writes the calls; file(INSTALL) applies DESTDIR.

# kg_full_dir(OUT KIND DIR): DIR (CMAKE_INSTALL_<KIND>DIR as configured, relative
# or absolute) made absolute for the install-time prefix, with GNUInstallDirs'
# rules: prefix / or /usr -> /etc, /opt/X -> /etc/opt/X, any other -> P/etc for
# SYSCONFDIR; P/DIR for the rest (/usr/DIR when the prefix is /).
function(kg_full_dir out kind dir)
  set(p "${CMAKE_INSTALL_PREFIX}")
  if(IS_ABSOLUTE "${dir}")
    set(r "${dir}")
  elseif(p STREQUAL "/")
    if(kind STREQUAL "SYSCONF" OR dir MATCHES "^usr/")
      set(r "/${dir}")
    else()
      set(r "/usr/${dir}")
    endif()
  elseif(p MATCHES "^/usr/?$" AND kind STREQUAL "SYSCONF")
    set(r "/${dir}")
  elseif(p MATCHES "^/opt/" AND kind STREQUAL "SYSCONF")
    set(r "/${dir}${p}")
  else()
    string(REGEX REPLACE "/+$" "" p "${p}")
    set(r "${p}/${dir}")
  endif()
  set(${out} "${r}" PARENT_SCOPE)
endfunction()

# kg_install_sysconf(SRC NAME SYSCONFDIR): SRC as SYSCONFDIR/kvmgrid/NAME.
function(kg_install_sysconf src name sysconfdir)
  kg_full_dir(etc SYSCONF "${sysconfdir}")
  file(INSTALL DESTINATION "${etc}/kvmgrid" TYPE FILE FILES "${src}" RENAME "${name}")
endfunction()

# kg_install_unit(TEMPLATE OUT UNITDIR DOC BINDIR SBINDIR SYSCONFDIR DOCDIR):
# renders TEMPLATE (@CMAKE_INSTALL_FULL_<DIR>@ placeholders, @KG_UNIT_DOC@) into
# OUT with the install-time paths and installs it into UNITDIR (absolute, or
# relative to the prefix). DOC is the unit's Documentation= value; a "@DOCDIR@"
# in it becomes the full doc directory.
function(kg_install_unit template out unitdir doc bindir sbindir sysconfdir docdir)
  kg_full_dir(CMAKE_INSTALL_FULL_BINDIR BIN "${bindir}")
  kg_full_dir(CMAKE_INSTALL_FULL_SBINDIR SBIN "${sbindir}")
  kg_full_dir(CMAKE_INSTALL_FULL_SYSCONFDIR SYSCONF "${sysconfdir}")
  kg_full_dir(CMAKE_INSTALL_FULL_DOCDIR DOC "${docdir}")
  kg_full_dir(dest UNIT "${unitdir}")
  string(REPLACE "@DOCDIR@" "${CMAKE_INSTALL_FULL_DOCDIR}" KG_UNIT_DOC "${doc}")
  configure_file("${template}" "${out}" @ONLY)
  file(INSTALL DESTINATION "${dest}" TYPE FILE FILES "${out}")
endfunction()
