/* SPDX-License-Identifier: MIT */
/* assert_near: cmocka's assert_float_equal works in float; the agent's figures are
 * doubles, so compare them as doubles with a readable failure message. */
#ifndef KG_TEST_NEAR_H
#define KG_TEST_NEAR_H
#include <math.h>
#define assert_near(a, b, eps)                                                             \
    do {                                                                                   \
        double a_ = (a), b_ = (b), e_ = (eps);                                             \
        if (!(fabs(a_ - b_) <= e_))                                                        \
            fail_msg("%s = %.9g, expected %.9g +- %g", #a, a_, b_, e_);                   \
    } while (0)
#endif
