/* ELF look-ups through libelf, shared by the lazyfault command and
 * liblazyfault.so (caller resolution).
 *
 * Rules for this module, because the library links it too: no global mutable
 * state, no printing (messages go into the caller's buffer), and no mmap of
 * the file (libelf is opened with ELF_C_READ, which reads with pread on
 * demand, so the library's own mmap wrappers never see these reads). */
#ifndef LAZYFAULT_ELFSYMS_H
#define LAZYFAULT_ELFSYMS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lf_elf_info {
	bool is_elf;            /* false: not an ELF file (the rest is zero) */
	int elf_class;          /* 32 or 64 */
	unsigned machine;       /* e_machine (EM_X86_64, ...) */
	unsigned type;          /* e_type (ET_EXEC, ET_DYN, ...) */
	bool has_interp;        /* PT_INTERP present: dynamically linked program */
	char interp[PATH_MAX];  /* the interpreter's path when has_interp */
	bool has_dynamic;       /* PT_DYNAMIC present */
	unsigned needed;        /* number of DT_NEEDED entries */
};

/* Describe the file at `path` (or open as `fd`; the fd's offset is not
 * used and the fd stays open).  Returns 0 (also for a file that is not ELF:
 * out->is_elf is then false), or -1 with a message in err when the file
 * cannot be read or is a damaged ELF file. */
int lf_elf_info(const char *path, struct lf_elf_info *out, char *err, size_t errlen);
int lf_elf_info_fd(int fd, const char *name, struct lf_elf_info *out,
		   char *err, size_t errlen);

/* Called once per defined function; return nonzero to stop the walk. */
typedef int (*lf_elf_sym_fn)(const char *name, uint64_t value, uint64_t size, void *arg);

/* Call fn for every defined function symbol (STT_FUNC or STT_GNU_IFUNC,
 * st_shndx != SHN_UNDEF, st_size > 0) of `.symtab`, or of `.dynsym` when the
 * file has no `.symtab` (then *used_dynsym is set true; a file with neither
 * gives no calls and *used_dynsym true).  value is st_value, unrelocated: the
 * caller adds the load bias.  used_dynsym may be NULL.
 * Returns 0 (also when fn stopped the walk), or -1 with a message in err. */
int lf_elf_functions(const char *path, lf_elf_sym_fn fn, void *arg,
		     bool *used_dynsym, char *err, size_t errlen);
int lf_elf_functions_fd(int fd, const char *name, lf_elf_sym_fn fn, void *arg,
			bool *used_dynsym, char *err, size_t errlen);

/* What finds an object's symbols elsewhere, and how its addresses read. */
struct lf_elf_ids {
	bool has_symtab;            /* a .symtab of its own (not stripped) */
	bool has_load;              /* a PT_LOAD segment: load_delta is valid */
	uint64_t load_delta;        /* p_vaddr - p_offset of the first PT_LOAD,
				     * page-aligned: add it to an offset from
				     * the object's base to get an address of
				     * its symbol tables */
	unsigned char build_id[64]; /* NT_GNU_BUILD_ID, build_id_len bytes */
	size_t build_id_len;
	char debuglink[256];        /* .gnu_debuglink file name, "" when none */
	uint32_t debuglink_crc;     /* CRC-32 of that file, as recorded */
};

/* Fill *out for the file at path.  Returns 0, or -1 with a message. */
int lf_elf_ids(const char *path, struct lf_elf_ids *out, char *err, size_t errlen);

/* The function (as lf_elf_functions walks them: .symtab, else .dynsym) whose
 * [st_value, st_value + st_size) holds vaddr; among several, the one that
 * starts last (the innermost), and of aliases the first in the table.  Returns 1 with its name and st_value, 0 when none holds it,
 * -1 with a message.  used_dynsym as for lf_elf_functions, may be NULL. */
int lf_elf_function_at(const char *path, uint64_t vaddr, char *name, size_t namelen,
		       uint64_t *start, bool *used_dynsym, char *err, size_t errlen);

#endif
