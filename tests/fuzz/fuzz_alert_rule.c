/* SPDX-License-Identifier: MIT */
/*
 * Fuzz entry point for the wall's alert rules as written in its config
 * (viewer/src/alerts.c, alerts_rule_parse and alerts_rule_format). The input is
 * the rule's text (up to its first NUL). Beyond "no crash, no UB" it checks what
 * alerts.h promises:
 *  - a refused rule returns KG_EINVAL with a reason, and leaves the rule alone;
 *  - an accepted one is "off", or on with 0 <= clear <= over, both finite;
 *  - its formatted text parses again, to a rule that formats the same (the text
 *    the wall would show for it is stable).
 * Built as a libFuzzer target (clang, KVMGRID_FUZZ=ON) or linked with fuzz_main.c
 * as a corpus regression test.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "kvmgrid/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *text)
{
    if (!ok) {
        fprintf(stderr, "fuzz_alert_rule: %s: '%s'\n", what, text);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[512];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    struct alerts_rule r = {true, 7, 7, 7};
    char why[200] = "";
    int rc = alerts_rule_parse(text, &r, why, sizeof(why));
    if (rc != 0) {
        check(rc == KG_EINVAL, "an undocumented code", text);
        check(why[0] != '\0', "refused without a reason", text);
        check(r.on && r.over == 7 && r.clear == 7 && r.for_ms == 7, "refused, but changed", text);
        return 0;
    }
    if (r.on)
        check(isfinite(r.over) && isfinite(r.clear) && r.clear >= 0 && r.clear <= r.over,
              "accepted thresholds out of order", text);
    char once[128], twice[128];
    alerts_rule_format(&r, once, sizeof(once));
    struct alerts_rule again;
    check(alerts_rule_parse(once, &again, why, sizeof(why)) == 0, "its format is refused", once);
    alerts_rule_format(&again, twice, sizeof(twice));
    check(strcmp(once, twice) == 0, "its format does not format the same", once);
    return 0;
}
