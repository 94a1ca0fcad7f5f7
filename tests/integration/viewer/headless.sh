# SPDX-License-Identifier: MIT
# For tests that run kvmgrid-wall without a display: source it after
# tests/integration/lib.sh. The wall and its test tools, and SDL's windowless
# offscreen driver with software rendering, which the wall uses only when asked
# (a wall that cannot reach a display otherwise exits 1). Tests that drive a real
# X window source xwall.sh instead.
WALL=$(kg_bin kvmgrid-wall)
GRIDPUB=$(kg_bin kg-wall-gridpub)
PIXELS=$(kg_bin kg-wall-pixels)
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0
