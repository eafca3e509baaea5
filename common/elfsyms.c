/* ELF look-ups through libelf: see elfsyms.h for the rules of this module. */
#include "elfsyms.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *nm(const char *name)
{
	return name ? name : "(fd)";
}

/* ELF_C_READ, not ELF_C_READ_MMAP: libelf then reads with pread as needed
 * instead of mapping the file, which matters inside the preload library
 * (its mmap wrapper) and for large files of which we need little. */
static Elf *open_elf(int fd, const char *name, char *err, size_t errlen)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		seterr(err, errlen, "%s: libelf is too old: %s", nm(name), elf_errmsg(-1));
		return NULL;
	}
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		seterr(err, errlen, "%s: cannot read: %s", nm(name), elf_errmsg(-1));
	return e;
}

static int open_path(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		seterr(err, errlen, "%s: %s", path, strerror(errno));
	return fd;
}

int lf_elf_info_fd(int fd, const char *name, struct lf_elf_info *out,
		   char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	Elf *e = open_elf(fd, name, err, errlen);
	if (!e)
		return -1;
	int rc = -1;
	if (elf_kind(e) != ELF_K_ELF) {
		rc = 0; /* not ELF: a script, an archive, anything */
		goto out;
	}
	GElf_Ehdr eh;
	if (!gelf_getehdr(e, &eh)) {
		seterr(err, errlen, "%s: bad ELF header: %s", nm(name), elf_errmsg(-1));
		goto out;
	}
	out->is_elf = true;
	out->elf_class = gelf_getclass(e) == ELFCLASS64 ? 64 : 32;
	out->machine = eh.e_machine;
	out->type = eh.e_type;

	size_t nph;
	if (elf_getphdrnum(e, &nph) != 0) {
		seterr(err, errlen, "%s: bad program headers: %s", nm(name), elf_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph)) {
			seterr(err, errlen, "%s: bad program header %zu: %s", nm(name), i,
			       elf_errmsg(-1));
			goto out;
		}
		if (ph.p_type == PT_INTERP) {
			if (ph.p_filesz == 0 || ph.p_filesz >= sizeof out->interp) {
				seterr(err, errlen, "%s: bad PT_INTERP size %llu", nm(name),
				       (unsigned long long)ph.p_filesz);
				goto out;
			}
			Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset,
							   ph.p_filesz, ELF_T_BYTE);
			if (!d || !d->d_buf) {
				seterr(err, errlen, "%s: cannot read PT_INTERP: %s", nm(name),
				       elf_errmsg(-1));
				goto out;
			}
			/* The segment holds a NUL-terminated path; never trust that. */
			size_t n = strnlen(d->d_buf, d->d_size);
			memcpy(out->interp, d->d_buf, n);
			out->interp[n] = '\0';
			out->has_interp = true;
		} else if (ph.p_type == PT_DYNAMIC) {
			out->has_dynamic = true;
			/* Read PT_DYNAMIC, not .dynamic: section headers may be gone. */
			Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset,
							   ph.p_filesz, ELF_T_DYN);
			size_t entsz = gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
			if (!d || entsz == 0) {
				seterr(err, errlen, "%s: cannot read PT_DYNAMIC: %s", nm(name),
				       elf_errmsg(-1));
				goto out;
			}
			size_t count = d->d_size / entsz;
			for (size_t j = 0; j < count; j++) {
				GElf_Dyn dyn;
				if (!gelf_getdyn(d, (int)j, &dyn) || dyn.d_tag == DT_NULL)
					break;
				if (dyn.d_tag == DT_NEEDED)
					out->needed++;
			}
		}
	}
	rc = 0;
out:
	elf_end(e);
	return rc;
}

int lf_elf_info(const char *path, struct lf_elf_info *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	int fd = open_path(path, err, errlen);
	if (fd < 0)
		return -1;
	int rc = lf_elf_info_fd(fd, path, out, err, errlen);
	close(fd);
	return rc;
}

static int walk_symbols(Elf *e, Elf_Scn *scn, const char *name, lf_elf_sym_fn fn,
			void *arg, char *err, size_t errlen)
{
	GElf_Shdr sh;
	if (!gelf_getshdr(scn, &sh)) {
		seterr(err, errlen, "%s: bad section header: %s", nm(name), elf_errmsg(-1));
		return -1;
	}
	size_t entsz = gelf_fsize(e, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Data *d = NULL;
	while ((d = elf_getdata(scn, d)) != NULL) {
		size_t count = entsz ? d->d_size / entsz : 0;
		for (size_t i = 0; i < count; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)i, &sym)) {
				(void)elf_errno(); /* skip it; keep the end check clean */
				continue;
			}
			int t = GELF_ST_TYPE(sym.st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) ||
			    sym.st_shndx == SHN_UNDEF || sym.st_size == 0)
				continue;
			const char *s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!s) {
				(void)elf_errno();
				continue;
			}
			if (!*s)
				continue;
			if (fn(s, sym.st_value, sym.st_size, arg))
				return 0;
		}
	}
	if (elf_errno() != 0) {
		/* elf_getdata failed part-way (a truncated file, say). */
		seterr(err, errlen, "%s: cannot read symbols: %s", nm(name), elf_errmsg(-1));
		return -1;
	}
	return 0;
}

int lf_elf_functions_fd(int fd, const char *name, lf_elf_sym_fn fn, void *arg,
			bool *used_dynsym, char *err, size_t errlen)
{
	if (used_dynsym)
		*used_dynsym = false;
	Elf *e = open_elf(fd, name, err, errlen);
	if (!e)
		return -1;
	int rc = -1;
	if (elf_kind(e) != ELF_K_ELF) {
		seterr(err, errlen, "%s: not an ELF file", nm(name));
		goto out;
	}
	(void)elf_errno(); /* clear any stale error before the walk checks it */
	Elf_Scn *symtab = NULL, *dynsym = NULL, *scn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB && !symtab)
			symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM && !dynsym)
			dynsym = scn;
	}
	if (!symtab && used_dynsym)
		*used_dynsym = true;
	scn = symtab ? symtab : dynsym;
	rc = scn ? walk_symbols(e, scn, name, fn, arg, err, errlen) : 0;
out:
	elf_end(e);
	return rc;
}

int lf_elf_functions(const char *path, lf_elf_sym_fn fn, void *arg,
		     bool *used_dynsym, char *err, size_t errlen)
{
	if (used_dynsym)
		*used_dynsym = false;
	int fd = open_path(path, err, errlen);
	if (fd < 0)
		return -1;
	int rc = lf_elf_functions_fd(fd, path, fn, arg, used_dynsym, err, errlen);
	close(fd);
	return rc;
}

/* Build-id: the first NT_GNU_BUILD_ID note of a note section, or of a
 * PT_NOTE segment when the file has no section headers. */
static void note_build_id(Elf_Data *d, struct lf_elf_ids *out)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while (d && out->build_id_len == 0 &&
	       (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz > 0 &&
		    nh.n_descsz <= sizeof out->build_id) {
			memcpy(out->build_id, (char *)d->d_buf + desc_off, nh.n_descsz);
			out->build_id_len = nh.n_descsz;
		}
	}
}

/* .gnu_debuglink: a NUL-terminated file name, padding to 4 bytes, then the
 * file's CRC-32 in the object's byte order. */
static void read_debuglink(Elf *e, Elf_Data *d, struct lf_elf_ids *out)
{
	if (!d || !d->d_buf)
		return;
	size_t n = strnlen(d->d_buf, d->d_size);
	size_t crc_at = (n + 4) & ~(size_t)3;
	if (n == 0 || n >= sizeof out->debuglink || crc_at + 4 > d->d_size)
		return;
	memcpy(out->debuglink, d->d_buf, n);
	out->debuglink[n] = '\0';
	const unsigned char *c = (const unsigned char *)d->d_buf + crc_at;
	GElf_Ehdr eh;
	bool big = gelf_getehdr(e, &eh) && eh.e_ident[EI_DATA] == ELFDATA2MSB;
	out->debuglink_crc = big ? (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]
				 : (uint32_t)c[3] << 24 | (uint32_t)c[2] << 16 | (uint32_t)c[1] << 8 | c[0];
}

int lf_elf_ids(const char *path, struct lf_elf_ids *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	int fd = open_path(path, err, errlen);
	if (fd < 0)
		return -1;
	int rc = -1;
	Elf *e = open_elf(fd, path, err, errlen);
	if (!e)
		goto close_fd;
	if (elf_kind(e) != ELF_K_ELF) {
		seterr(err, errlen, "%s: not an ELF file", path);
		goto out;
	}
	size_t nph = 0, shstrndx = 0;
	if (elf_getphdrnum(e, &nph) != 0)
		nph = 0;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && !out->has_load) {
			/* The page that holds the segment's first byte is mapped
			 * at the page of its address: the object's base is where
			 * file offset 0 would land. */
			uint64_t align = ph.p_align > 1 ? ph.p_align : 1;
			out->load_delta = (ph.p_vaddr - ph.p_offset) & ~(align - 1);
			out->has_load = true;
		}
	}
	bool sections = elf_getshdrstrndx(e, &shstrndx) == 0;
	Elf_Scn *scn = NULL;
	while (sections && (scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB)
			out->has_symtab = true;
		else if (sh.sh_type == SHT_NOTE)
			note_build_id(elf_getdata(scn, NULL), out);
		else if (name && !strcmp(name, ".gnu_debuglink") && sh.sh_type != SHT_NOBITS)
			read_debuglink(e, elf_getdata(scn, NULL), out);
	}
	for (size_t i = 0; i < nph && out->build_id_len == 0; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_NOTE)
			note_build_id(elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz,
							   ELF_T_NHDR), out);
	}
	(void)elf_errno(); /* a damaged note or section is only missing data */
	rc = 0;
out:
	elf_end(e);
close_fd:
	close(fd);
	return rc;
}

struct at {
	uint64_t vaddr, start;
	char *name;
	size_t namelen;
	bool found;
};

static int function_at_fn(const char *name, uint64_t value, uint64_t size, void *arg)
{
	struct at *a = arg;
	if (a->vaddr < value || a->vaddr - value >= size || (a->found && value <= a->start))
		return 0;
	a->found = true;
	a->start = value;
	snprintf(a->name, a->namelen, "%s", name);
	return 0;
}

int lf_elf_function_at(const char *path, uint64_t vaddr, char *name, size_t namelen,
		       uint64_t *start, bool *used_dynsym, char *err, size_t errlen)
{
	struct at a = { .vaddr = vaddr, .name = name, .namelen = namelen };
	if (lf_elf_functions(path, function_at_fn, &a, used_dynsym, err, errlen) != 0)
		return -1;
	if (a.found)
		*start = a.start;
	return a.found;
}
