/* Names for code addresses of a crash report: "function+0xOFF (file)".
 *
 * A frame is given as the object it falls in and its offset from the
 * object's base (where the object's first byte is mapped: the start of its
 * /proc/PID/maps line at file offset 0, dladdr's dli_fbase).  Names come
 * from the object's .symtab; for a stripped object, from the .symtab of its
 * separate debug file when one is installed (by build-id:
 * ROOT/.build-id/xx/rest.debug; by .gnu_debuglink NAME: the object's
 * directory, its .debug/ subdirectory, ROOT/<its directory>/), checked
 * against the object; else from its .dynsym (exported names only). */
#ifndef LAZYFAULT_SYMBOLIZE_H
#define LAZYFAULT_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#define LF_DEBUG_ROOT "/usr/lib/debug"

enum lf_sym_source {
	LF_SYM_NONE,          /* no function holds the address */
	LF_SYM_SYMTAB,        /* the object's own .symtab */
	LF_SYM_BUILD_ID,      /* the debug file found by build-id */
	LF_SYM_DEBUGLINK,     /* the debug file named by .gnu_debuglink */
	LF_SYM_DYNSYM,        /* the object's .dynsym */
};

/* Write "function+0xOFF (object)" into out, or "object+0xOFF" when no
 * function holds the address, or "object+0xOFF (ERROR)" when the object
 * cannot be read.  debug_root: NULL for LF_DEBUG_ROOT.  Returns where the
 * name came from. */
enum lf_sym_source lf_symbolize(const char *debug_root, const char *object, uint64_t offset,
				char *out, size_t len);

#endif
