/* Whether two parsed rule files mean the same, and the round trip (parse,
 * print, parse again, compare) of the unit tests and the fuzzer.  Linked
 * into neither the library nor the command. */
#ifndef LAZYFAULT_RULES_COMPARE_H
#define LAZYFAULT_RULES_COMPARE_H

#include "rules.h"

/* 0 when every rule has the same name and every key of the key table the
 * same value and the same standing (in force or not) in a as in b; else -1
 * with the first difference in why ("rule 'x': key 'pages' differs").
 * Lines and the file name are not compared. */
int lf_rules_compare(const struct lf_rules *a, const struct lf_rules *b, char *why, size_t n);

/* What lf_rules_print writes, in a malloc'd string (NULL: out of memory). */
char *lf_rules_printed(const struct lf_rules *r);

/* Print r, parse the text again and compare: 0 when it gives the same
 * rules; LF_PRINTED_REFUSED when the parser refuses the text, with its
 * message in why; -1 with the first difference in why.  *printed (when not
 * NULL) receives the text, to free. */
#define LF_PRINTED_REFUSED (-2)
int lf_rules_round_trip(const struct lf_rules *r, char **printed, char *why, size_t n);

#endif
