# SPDX-License-Identifier: MIT
# cmake -DLOWDOWN=... -DIN=docs/PROG.md -DOUT=PROG.N -DTITLE=PROG -DSECTION=N
#       -DSOURCE="kvmgrid X.Y.Z" -P md2man.cmake
# The manual's first line, "# PROG(N)", is the page's title line (.TH) in a man
# page, so it is dropped and the "## NAME"... sections become .SH sections.
# The date is SOURCE_DATE_EPOCH's when set (reproducible package builds).
file(READ "${IN}" md)
string(REGEX REPLACE "^# [^\n]*\n+" "" md "${md}")
file(WRITE "${OUT}.md" "${md}")
string(TIMESTAMP date "%Y-%m-%d" UTC)
if(SECTION STREQUAL "8")
  set(volume "System Administration")
else()
  set(volume "User Commands")
endif()
execute_process(
  COMMAND "${LOWDOWN}" -s -Tman --out-no-smarty --nroff-nolinks
          -M "title=${TITLE}" -M "section=${SECTION}" -M "date=${date}"
          -M "source=${SOURCE}" -M "volume=${volume}" -M "shiftheadinglevelby=-1"
          -o "${OUT}.tmp" "${OUT}.md"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "lowdown failed on ${IN}")
endif()
# Tables are tbl(1) input: the first line asks man for the tbl preprocessor and
# keeps lowdown's coding note ('\" t -*- coding: utf-8 -*-).
file(READ "${OUT}.tmp" man)
string(REGEX REPLACE "^\\.\\\\\" [^\n]*\n" "" man "${man}")
file(WRITE "${OUT}" "'\\\" t -*- coding: utf-8 -*-\n${man}")
file(REMOVE "${OUT}.md" "${OUT}.tmp")
