/* The per-thread recursion guard (invariant I2 in lf.h).  initial-exec TLS
 * lives in the static TLS block, so touching it never calls malloc. */
#include "lf.h"

__thread int lf_busy __attribute__((tls_model("initial-exec")));
