/* Per-thread state of the library (invariant I2 in lf.h).  initial-exec TLS
 * lives in the static TLS block, so touching it never calls malloc. */
#include "lf.h"

/* Non-zero inside the library: nested wrapper calls go straight through. */
__thread int lf_busy __attribute__((tls_model("initial-exec")));
/* Set on helper threads, which run with every signal blocked for good. */
__thread bool lf_signals_blocked __attribute__((tls_model("initial-exec")));
