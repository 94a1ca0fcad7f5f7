#!/bin/sh
# SPDX-License-Identifier: MIT
# Tiles as large as the screen allows, with the VM's name (and value) inside them
# (readable across a room): 1 host x 3 VMs on 1920x1080 gives tiles of at least 400 px with text
# in their bottom band, none in their top 60 %; a bright tile gets dark text, a dark
# tile light text; a paused tile keeps its bars across the centre; small tiles
# (1,000 VMs) carry no text at all.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"

kg_broker_start

# --history 0: no trend lines, which lie in the top 60 % (test_wall_picture checks them)
shot() { # NAME: screenshot + layout at 1920x1080
    "$WALL" --broker "$KG_BROKER_URI" --size 1920x1080 --metric cpu --interval 1h --history 0 --screenshot "$KG_TMP/$1.png" \
        --dump-layout "$KG_TMP/$1.txt" >>"$KG_TMP/wall.log" 2>&1
    kg_assert_eq "$1: wall exit status" 0 $?
}
tile() { grep "^tile $2 $3 " "$KG_TMP/$1.txt" | head -n 1; }
# region NAME X Y W H: "RRGGBB count" for each colour in that rectangle of the picture
region() {
    awk -v x="$2" -v y="$3" -v w="$4" -v h="$5" \
        'BEGIN { for (j = y; j < y + h; j++) for (i = x; i < x + w; i++) print i, j }' |
        "$PIXELS" "$KG_TMP/$1.png" | awk 'NR > 1 { n[$3]++ } END { for (c in n) print c, n[c] }'
}
count() { # NAME X Y W H RRGGBB: pixels of that colour in the rectangle
    region "$1" "$2" "$3" "$4" "$5" | awk -v c="$6" '$1 == c { n = $2 } END { print n + 0 }'
}

# 1 host x 3 VMs (cpu 0, 13, 26 %: dark viridis colours).
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts 1 --vms 3 >"$KG_TMP/gridpub.log" 2>&1 || kg_die "gridpub"
shot one
kg_assert_eq "three tiles" 3 "$(grep -c '^tile ' "$KG_TMP/one.txt")"
for v in vm000 vm001 vm002; do
    set -- $(tile one hv0000 $v); x=$4 y=$5 t=$6
    [ "$t" -ge 400 ] && kg_pass "$v tile $t px >= 400" || kg_fail "$v tile only $t px (want >= 400)"
    band=$(( t * 2 / 5 )) top=$(( t - t * 2 / 5 ))
    white=$(count one $x $(( y + top )) $t $band FFFFFF)
    [ "$white" -ge 200 ] && kg_pass "$v: light text in its bottom band ($white px)" ||
        kg_fail "$v: no name drawn in its bottom band ($white white px)"
    colours=$(region one $x $y $t $top | wc -l)
    kg_assert_eq "$v: top 60 % of the tile is one colour (no text)" 1 "$colours"
done
kg_assert_contains "layout reports labels" "$(head -n 1 "$KG_TMP/one.txt")" "labels 1"

# A bright tile gets dark text; a paused one keeps its bars across the centre.
# (95 %: memory, which follows CPU here, is not over the default alert's 95 %, so
# no alert frame lies over what these checks look at)
kg_pub kvmgrid/hvb/vm/bright "$("$GRIDPUB" --print-vm hvb bright 95 running)" -r
kg_pub kvmgrid/hvb/vm/p "$("$GRIDPUB" --print-vm hvb p 95 paused)" -r
shot two
set -- $(tile two hvb bright); x=$4 y=$5 t=$6
band=$(( t * 2 / 5 )) top=$(( t - t * 2 / 5 ))
[ "$t" -ge 120 ] || kg_fail "tiles of 5 VMs too small for values ($t px)"
black=$(count two $x $(( y + top )) $t $band 000000)
white=$(count two $x $(( y + top )) $t $band FFFFFF)
[ "$black" -gt "$white" ] && [ "$white" -gt 0 ] && kg_pass "bright tile: dark text with a light shadow ($black/$white)" ||
    kg_fail "bright tile: text not dark ($black black, $white white px)"
kg_assert_eq "bright tile: top 60 % one colour" 1 "$(region two $x $y $t $top | wc -l)"
set -- $(tile two hvb p); x=$4 y=$5 t=$6
bw=$(( t / 6 )); sp=$(( t / 10 ))
kg_assert_eq "paused tile: bar across the centre" FFFFFF \
    "$(echo "$(( x + t / 2 - sp - bw )) $(( y + t / 2 ))" | "$PIXELS" "$KG_TMP/two.png" | tail -n 1 | cut -d' ' -f3)"
kg_assert_eq "paused tile: colour at its corner" DDE318 \
    "$(echo "$x $y" | "$PIXELS" "$KG_TMP/two.png" | tail -n 1 | cut -d' ' -f3)"
black=$(count two $x $(( y + top )) $t $band 000000)
[ "$black" -ge 100 ] && kg_pass "paused tile: name drawn ($black px)" || kg_fail "paused tile: no name"

# 20 hosts x 50 VMs: tiles under 48 px carry no text (no pure black or white pixel).
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts 20 --vms 50 >>"$KG_TMP/gridpub.log" 2>&1 || kg_die "gridpub"
shot many
set -- $(tile many hv0000 vm000); x=$4 y=$5 t=$6
[ "$t" -lt 48 ] && kg_pass "1,000 VMs: tiles $t px" || kg_fail "1,000 VMs: tiles $t px, expected < 48"
kg_assert_eq "small tile: no text" 0 \
    "$(( $(count many $x $y $t $t FFFFFF) + $(count many $x $y $t $t 000000) ))"
kg_assert_eq "small tile: one colour" 1 "$(region many $x $y $t $t | wc -l)"
