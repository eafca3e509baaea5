/* Names for code addresses: see symbolize.h. */
#include "symbolize.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "elfsyms.h"

/* CRC-32 of a whole file, as .gnu_debuglink records it. */
static bool file_crc(const char *path, uint32_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	uLong c = crc32(0L, Z_NULL, 0);
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		c = crc32(c, buf, (uInt)n);
	close(fd);
	*out = (uint32_t)c;
	return n == 0;
}

/* The function at vaddr in the .symtab of `file` (not its .dynsym). */
static bool from_symtab(const char *file, uint64_t vaddr, char *name, size_t namelen,
			uint64_t *start)
{
	bool dyn = false;
	char err[PATH_MAX + 128];
	return lf_elf_function_at(file, vaddr, name, namelen, start, &dyn, err, sizeof err) == 1 &&
	       !dyn;
}

/* A debug file that belongs to the object: same build-id, when both have
 * one (a file of that name from another build has other addresses). */
static bool same_build(const struct lf_elf_ids *obj, const char *debug)
{
	struct lf_elf_ids d;
	char err[PATH_MAX + 128];
	if (lf_elf_ids(debug, &d, err, sizeof err) != 0)
		return false;
	if (!obj->build_id_len || !d.build_id_len)
		return true;
	return d.build_id_len == obj->build_id_len &&
	       !memcmp(d.build_id, obj->build_id, d.build_id_len);
}

static bool by_build_id(const char *root, const struct lf_elf_ids *ids, char *path)
{
	if (ids->build_id_len < 2)
		return false;
	int n = snprintf(path, PATH_MAX, "%s/.build-id/%02x/", root, ids->build_id[0]);
	for (size_t i = 1; i < ids->build_id_len && n > 0 && n < PATH_MAX - 8; i++)
		n += snprintf(path + n, (size_t)(PATH_MAX - n), "%02x", ids->build_id[i]);
	if (n <= 0 || n >= PATH_MAX - 8)
		return false;
	snprintf(path + n, (size_t)(PATH_MAX - n), ".debug");
	return access(path, R_OK) == 0 && same_build(ids, path);
}

static bool by_debuglink(const char *root, const char *object, const struct lf_elf_ids *ids,
			 char *path)
{
	if (!ids->debuglink[0])
		return false;
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", object);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	const char *const forms[] = { "%s/%s", "%s/.debug/%s" };
	for (int i = 0; i < 3; i++) {
		int n = i < 2 ? snprintf(path, PATH_MAX, forms[i], dir, ids->debuglink)
			      : snprintf(path, PATH_MAX, "%s%s%s/%s", root, dir[0] == '/' ? "" : "/",
					 dir, ids->debuglink);
		uint32_t crc;
		if (n <= 0 || n >= PATH_MAX || access(path, R_OK) != 0)
			continue;
		/* The object itself may carry the name of its own file. */
		if (!strcmp(path, object))
			continue;
		if (file_crc(path, &crc) && crc == ids->debuglink_crc && same_build(ids, path))
			return true;
	}
	return false;
}

enum lf_sym_source lf_symbolize(const char *debug_root, const char *object, uint64_t offset,
				char *out, size_t len)
{
	const char *root = debug_root ? debug_root : LF_DEBUG_ROOT;
	struct lf_elf_ids ids;
	char err[PATH_MAX + 128], name[512], debug[PATH_MAX];
	if (lf_elf_ids(object, &ids, err, sizeof err) != 0) {
		snprintf(out, len, "%s+0x%llx (%s)", object, (unsigned long long)offset, err);
		return LF_SYM_NONE;
	}
	uint64_t vaddr = offset + (ids.has_load ? ids.load_delta : 0), start = 0;
	enum lf_sym_source src = LF_SYM_NONE;
	if (ids.has_symtab) {
		if (from_symtab(object, vaddr, name, sizeof name, &start))
			src = LF_SYM_SYMTAB;
	} else if (by_build_id(root, &ids, debug) &&
		   from_symtab(debug, vaddr, name, sizeof name, &start)) {
		src = LF_SYM_BUILD_ID;
	} else if (by_debuglink(root, object, &ids, debug) &&
		   from_symtab(debug, vaddr, name, sizeof name, &start)) {
		src = LF_SYM_DEBUGLINK;
	} else {
		bool dyn = false;
		if (lf_elf_function_at(object, vaddr, name, sizeof name, &start, &dyn, err,
				       sizeof err) == 1)
			src = LF_SYM_DYNSYM;
	}
	if (src == LF_SYM_NONE)
		snprintf(out, len, "%s+0x%llx", object, (unsigned long long)offset);
	else
		snprintf(out, len, "%s+0x%llx (%s)", name, (unsigned long long)(vaddr - start),
			 object);
	return src;
}
