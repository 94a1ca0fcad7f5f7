/* SPDX-License-Identifier: MIT */
/*
 * kg-xss-state: prints the X server's screen-saver state as the MIT-SCREEN-SAVER
 * extension reports it ("state on|off|disabled idle_ms N"), for the test that the
 * wall keeps the screen from blanking. Reading the screen does not tell: Xvfb blanks
 * without changing the pixels xwd reads. Exit 0, or 2 without a display or the
 * extension.
 */
#include <X11/Xlib.h>
#include <X11/extensions/scrnsaver.h>
#include <stdio.h>

int main(void)
{
    Display *d = XOpenDisplay(NULL);
    if (d == NULL) {
        fprintf(stderr, "kg-xss-state: cannot open the display\n");
        return 2;
    }
    int ev, err;
    XScreenSaverInfo *info = XScreenSaverAllocInfo();
    if (info == NULL || !XScreenSaverQueryExtension(d, &ev, &err) ||
        !XScreenSaverQueryInfo(d, DefaultRootWindow(d), info)) {
        fprintf(stderr, "kg-xss-state: the X server has no MIT-SCREEN-SAVER extension\n");
        XCloseDisplay(d);
        return 2;
    }
    const char *state = info->state == ScreenSaverOn    ? "on"
                        : info->state == ScreenSaverOff ? "off"
                                                        : "disabled";
    printf("state %s idle_ms %lu\n", state, info->idle);
    XFree(info);
    XCloseDisplay(d);
    return 0;
}
