/*
 * fetch_archive.c - reading archives with libarchive, safely: every entry is
 * checked (type, name, size, encryption) before a byte is written, data goes
 * to numbered files in a staging folder under DEST (names never come from
 * the archive), and whole-archive limits (entries, bytes, ratio, depth) refuse
 * bombs. Nested archives are read from memory, recursively.
 */
#include "fetch_int.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#define BLOCK (64 * 1024)
#define RATIO_MIN_BYTES (1u << 20)  /* below this, no ratio is suspicious */
#define MACOS_JUNK "macOS metadata" /* skipped quietly (still listed) */

/* Where the entries of the archive being read belong. */
struct level {
	const char *chain;	      /* "a.zip!b.zip" for origins */
	unsigned depth;		      /* 0 = top level */
	int identified;		      /* entries belong to `who` */
	const struct fetch_name *who; /* layout, lms id, ... of the owner */
	const char *prefix;	      /* identified: path prefix inside the submission */
	const char *logical;	      /* unidentified: prefix of names for layout parsing */
	size_t nest;		      /* identified nested archive: its number */
	int64_t time;		      /* identified nested archive: the LMS's time of the
					 entry holding it (0 = none), its files' time */
	int64_t time_later;	      /* ... its fetch_item.mtime_later */
};

/* State of one top-level archive. */
struct reading {
	struct fetch_collect *c;
	size_t index;
	const char *shown; /* archive as given, for messages */
	size_t entries;
	uint64_t out_bytes;
	int refused; /* the whole archive is refused */
	int corrupt; /* ... because it is corrupt (not over a cap) */
	char why[512];
	unsigned char *buf;
	const char *encoding; /* of the entry being read: "utf-8", "cp437", ... */
	struct fetch_odd odd; /* names read as CP437 that look like another code page */
};

void fetch_item_release(struct fetch_item *it)
{
	fetch_name_release(&it->name);
	free(it->origin);
	free(it->reason);
}

static int is_archive_name(const char *name)
{
	static const char *const ext[] = {".zip", ".tar",    ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
					  ".tbz", ".tar.xz", ".txz",	".7z",	".rar"};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);
		if (n > e && !strcasecmp(name + n - e, ext[i]))
			return 1;
	}
	return 0;
}

static struct archive *new_reader(void)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	return a;
}

static struct fetch_item *new_item(struct fetch_collect *c)
{
	struct fetch_item *it;

	if (c->nitems == c->capitems) {
		size_t ncap = c->capitems ? c->capitems * 2 : 64;
		struct fetch_item *ni = realloc(c->items, ncap * sizeof(*ni));
		if (!ni)
			return NULL;
		c->items = ni;
		c->capitems = ncap;
	}
	it = &c->items[c->nitems++];
	memset(it, 0, sizeof(*it));
	it->seq = c->seq++;
	return it;
}

/* Drop items from index `mark` on (their staged files too). */
static void rollback(struct fetch_collect *c, size_t mark)
{
	while (c->nitems > mark) {
		struct fetch_item *it = &c->items[--c->nitems];
		if (it->stage[0])
			unlinkat(c->stage_fd, it->stage, 0);
		fetch_item_release(it);
	}
}

static int copy_name(struct fetch_name *dst, const struct fetch_name *src, const char *path)
{
	*dst = *src;
	dst->lms_id = strdup(src->lms_id);
	dst->display_name = src->display_name ? strdup(src->display_name) : NULL;
	dst->original = src->original ? strdup(src->original) : NULL;
	dst->path = strdup(path);
	if (!dst->lms_id || !dst->path || (src->display_name && !dst->display_name) ||
	    (src->original && !dst->original))
		return GR_ENOMEM;
	return 0;
}

/*
 * Record a skipped entry: for its student when known, else as an entry of
 * nobody's (still listed and counted), and in the log. `unreadable`: its
 * name could not be read, which makes the run fail.
 */
static int skip_entry_as(struct reading *r, const struct level *lv, const struct fetch_name *who,
			 const char *name, const char *why, int unreadable)
{
	struct fetch_item *it;
	char shown[512];

	fetch_escape_name(shown, sizeof(shown), name);
	if (strcmp(why, MACOS_JUNK) && who)
		fetch_log(r->c->o, "'%s': entry '%s%s%s': skipped: %s (%s id '%s')", r->shown,
			  lv->depth ? lv->chain : "", lv->depth ? "!" : "", shown, why,
			  fetch_layout_name(who->layout), who->lms_id);
	else if (strcmp(why, MACOS_JUNK))
		fetch_log(r->c->o, "'%s': entry '%s%s%s': skipped: %s", r->shown,
			  lv->depth ? lv->chain : "", lv->depth ? "!" : "", shown, why);
	it = new_item(r->c);
	if (!it)
		return GR_ENOMEM;
	it->kind = ITEM_SKIP;
	it->archive = r->index;
	it->unreadable = unreadable;
	if (!who) {
		/* nobody's: listed in the report under no student */
		it->orphan = 1;
		if (!(it->name.lms_id = strdup("")) || !(it->name.path = strdup(shown)))
			return GR_ENOMEM;
	} else if (copy_name(&it->name, who, shown) < 0) {
		return GR_ENOMEM;
	}
	if (!(it->reason = strdup(why)) || asprintf(&it->origin, "%s!%s", lv->chain, shown) < 0) {
		it->origin = NULL;
		return GR_ENOMEM;
	}
	return 0;
}

static int skip_entry(struct reading *r, const struct level *lv, const struct fetch_name *who,
		      const char *name, const char *why)
{
	return skip_entry_as(r, lv, who, name, why, 0);
}

static int refuse(struct reading *r, const struct level *lv, const char *entry, const char *why,
		  int corrupt)
{
	if (!r->refused) {
		r->refused = 1;
		r->corrupt = corrupt;
		if (entry)
			snprintf(r->why, sizeof(r->why), "entry '%s%s%s': %s",
				 lv->depth ? lv->chain : "", lv->depth ? "!" : "", entry, why);
		else
			snprintf(r->why, sizeof(r->why), "%s", why);
	}
	return 0;
}

/* Count output bytes against the archive's caps; sets refused. */
static void account(struct reading *r, const struct level *lv, struct archive *a, uint64_t *lvl_out,
		    size_t n, const char *entry)
{
	const struct fetch_limits *lim = &r->c->o->limits;
	int64_t in = archive_filter_bytes(a, -1);
	char why[160];

	r->out_bytes += n;
	*lvl_out += n;
	if (r->out_bytes > lim->max_archive_size) {
		snprintf(why, sizeof(why), "archive unpacks to more than %llu bytes (cap)",
			 (unsigned long long)lim->max_archive_size);
		refuse(r, lv, entry, why, 0);
	} else if (*lvl_out > RATIO_MIN_BYTES && in > 0 &&
		   *lvl_out / (uint64_t)in > lim->max_ratio) {
		snprintf(why, sizeof(why), "compression ratio over %u:1 (zip bomb?)",
			 lim->max_ratio);
		refuse(r, lv, entry, why, 0);
	}
}

static int read_level(struct reading *r, struct archive *a, const struct level *lv,
		      struct gr_err *err);

/*
 * The UTC time of entry e (0 = none). A zip stores an MS-DOS date and time
 * without a zone, which libarchive turns into seconds with mktime, i.e. in
 * this process's TZ, unless a UTC field (Info-ZIP's extended timestamp, as
 * zip on Linux or macOS writes it) replaces it. With --lms-timezone the DOS
 * time is the LMS's wall clock (Moodle writes its download in the site's
 * zone): localtime_r gives back libarchive's fields and they are read in
 * that zone, the repeated hour of a DST end as its first instant. A UTC
 * field shows as an access time or an odd second (DOS times are even);
 * 7-Zip's NTFS field is not read by libarchive, so its DOS time applies.
 */
static int64_t entry_time(const struct reading *r, struct archive *a, struct archive_entry *e,
			  int64_t *later)
{
	const char *zone = r->c->o->lms_zone;
	int64_t t = archive_entry_mtime_is_set(e) ? (int64_t)archive_entry_mtime(e) : 0, utc, two;
	time_t tt = (time_t)t;
	struct tm tm;

	*later = 0;
	if (!t || !zone || (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_ZIP ||
	    archive_entry_atime(e) != 0 || (t & 1) || !localtime_r(&tt, &tm) ||
	    gr_time_zone_to_utc_both(&utc, &two, (int64_t)timegm(&tm), zone, NULL) < 0)
		return t;
	if (two != utc)
		*later = two;
	return utc;
}

/* Read a nested archive's bytes into memory (bounded) and recurse. */
static int nested(struct reading *r, struct archive *a, const struct level *lv, uint64_t *lvl_out,
		  const char *name, const struct fetch_name *who, const char *logical_or_prefix,
		  int64_t when, int64_t when_later, struct gr_err *err)
{
	const struct fetch_limits *lim = &r->c->o->limits;
	unsigned char *data = NULL;
	size_t len = 0, cap = 0;
	struct archive *in = NULL;
	char *chain = NULL, why[600];
	size_t mark = r->c->nitems;
	int rc = 0;

	for (;;) {
		la_ssize_t n;
		if (len + BLOCK > cap) {
			size_t ncap = cap ? cap * 2 : BLOCK * 4;
			unsigned char *nd = realloc(data, ncap);
			if (!nd) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
			data = nd;
			cap = ncap;
		}
		n = archive_read_data(a, data + len, BLOCK);
		if (n < 0) {
			snprintf(why, sizeof(why), "corrupt or truncated: %s",
				 archive_error_string(a) ? archive_error_string(a) : "read error");
			refuse(r, lv, name, why, 1);
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		account(r, lv, a, lvl_out, (size_t)n, name);
		if (r->refused)
			goto done;
		if (len > lim->max_file_size) {
			snprintf(why, sizeof(why), "nested archive over the file cap of %llu bytes",
				 (unsigned long long)lim->max_file_size);
			rc = skip_entry(r, lv, who, name, why);
			goto done;
		}
	}
	if (asprintf(&chain, "%s!%s", lv->chain, name) < 0) {
		chain = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	in = new_reader();
	if (!in || archive_read_open_memory(in, data, len) != ARCHIVE_OK) {
		snprintf(why, sizeof(why), "not a readable archive: %s",
			 in && archive_error_string(in) ? archive_error_string(in) : "unknown");
		rc = skip_entry(r, lv, who, name, why);
		goto done;
	}
	struct level sub = {.chain = chain,
			    .depth = lv->depth + 1,
			    .identified = who != NULL,
			    .who = who,
			    .prefix = who ? logical_or_prefix : NULL,
			    .logical = who ? NULL : logical_or_prefix,
			    .nest = who ? ++r->c->nests : 0,
			    .time = who ? when : 0,
			    .time_later = who ? when_later : 0};
	rc = read_level(r, in, &sub, err);
	if (rc == 0 && r->refused && r->corrupt) {
		/* one student's broken archive does not sink the whole download */
		snprintf(why, sizeof(why), "nested archive refused: %s", r->why);
		r->refused = r->corrupt = 0;
		r->why[0] = '\0';
		rollback(r->c, mark);
		rc = skip_entry(r, lv, who, name, why);
	}
done:
	archive_read_free(in);
	free(chain);
	free(data);
	return rc;
}

/* Stream one regular entry into a staging file, hashing as it goes. */
static int stage_entry(struct reading *r, struct archive *a, const struct level *lv,
		       uint64_t *lvl_out, struct archive_entry *e, const char *name,
		       const struct fetch_name *who, struct gr_err *err)
{
	const struct fetch_limits *lim = &r->c->o->limits;
	struct fetch_collect *c = r->c;
	struct fetch_item *it;
	EVP_MD_CTX *md = NULL;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	uint64_t size = 0;
	char stage[24], why[256];
	int fd = -1, rc = 0, over = 0;

	snprintf(stage, sizeof(stage), "e%zu", c->seq);
	fd = openat(c->stage_fd, stage, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	md = EVP_MD_CTX_new();
	if (fd < 0 || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot stage '%s'", name);
		goto done;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, r->buf, BLOCK);
		if (n < 0) {
			snprintf(why, sizeof(why), "corrupt or truncated: %s",
				 archive_error_string(a) ? archive_error_string(a) : "read error");
			if (archive_entry_is_encrypted(e))
				rc = skip_entry(r, lv, who, name, "encrypted entry");
			else
				refuse(r, lv, name, why, 1);
			goto done;
		}
		if (n == 0)
			break;
		size += (uint64_t)n;
		account(r, lv, a, lvl_out, (size_t)n, name);
		if (r->refused)
			goto done;
		if (size > lim->max_file_size) {
			over = 1;
			continue; /* keep reading to count the archive's bytes */
		}
		EVP_DigestUpdate(md, r->buf, (size_t)n);
		if (gr_write_all(fd, r->buf, (size_t)n) < 0) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot stage '%s'", name);
			goto done;
		}
	}
	if (over) {
		snprintf(why, sizeof(why), "file of %llu bytes is over the cap of %llu",
			 (unsigned long long)size, (unsigned long long)lim->max_file_size);
		rc = skip_entry(r, lv, who, name, why);
		goto done;
	}
	EVP_DigestFinal_ex(md, dig, &dlen);
	it = new_item(c);
	if (!it) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	it->kind = ITEM_FILE;
	it->archive = r->index;
	it->size = size;
	/* a student's own archive: its files' times are the student's clock */
	if (lv->time) {
		it->mtime = lv->time;
		it->mtime_later = lv->time_later;
	} else {
		it->mtime = entry_time(r, a, e, &it->mtime_later);
	}
	it->name_encoding = r->encoding;
	memcpy(it->stage, stage, sizeof(stage));
	for (unsigned i = 0; i < dlen; i++)
		sprintf(it->sha256 + 2 * i, "%02x", dig[i]);
	if (lv->identified) {
		char *path = NULL;
		if (asprintf(&path, "%s%s", lv->prefix, name) < 0 ||
		    copy_name(&it->name, who, path) < 0) {
			free(path);
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		free(path);
		it->name.kind = FETCH_NAME_FILE;
		it->nest = lv->nest;
		it->nest_prefix = strlen(lv->prefix);
	} else if (copy_name(&it->name, who, who->path) < 0) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (asprintf(&it->origin, "%s!%s", lv->chain, name) < 0) {
		it->origin = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	close(fd);
	fd = -1;
done:
	if (fd >= 0) {
		close(fd);
		unlinkat(c->stage_fd, stage, 0);
	}
	EVP_MD_CTX_free(md);
	return rc;
}

/*
 * __MACOSX/ folders and .DS_Store files that macOS adds to every zip, and the
 * AppleDouble "._name" files its tar and some zip tools write beside each
 * file (a "._ps1.ipynb" would otherwise be graded as a notebook).
 */
static int is_macos_junk(const char *name)
{
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;

	return !strncmp(name, "__MACOSX/", 9) || strstr(name, "/__MACOSX/") ||
	       !strcmp(base, ".DS_Store") || !strncmp(base, "._", 2);
}

static const char *type_name(mode_t t)
{
	switch (t) {
	case AE_IFLNK:
		return "symlink";
	case AE_IFCHR:
		return "character device";
	case AE_IFBLK:
		return "block device";
	case AE_IFIFO:
		return "fifo";
	case AE_IFSOCK:
		return "socket";
	default:
		return "special file";
	}
}

/*
 * What to do with one readable entry of a level, named `name` (decoded;
 * `logical` is its name for layout parsing at an unidentified level),
 * belonging to `who` (NULL: nobody known): skip it with the reason, unpack
 * it as a nested archive, or stage it.
 */
static int take_entry(struct reading *r, struct archive *a, const struct level *lv,
		      uint64_t *lvl_out, struct archive_entry *e, const char *name,
		      const char *logical, const struct fetch_name *who, struct gr_err *err)
{
	const struct fetch_opts *o = r->c->o;
	char why[256];
	int rc;

	if (is_macos_junk(name)) {
		rc = skip_entry(r, lv, who, name, MACOS_JUNK);
	} else if (archive_entry_hardlink(e)) {
		snprintf(why, sizeof(why), "hard link to '%.100s' not followed",
			 archive_entry_hardlink(e));
		rc = skip_entry(r, lv, who, name, why);
	} else if (archive_entry_filetype(e) != AE_IFREG) {
		snprintf(why, sizeof(why), "%s not copied%s%.100s%s",
			 type_name(archive_entry_filetype(e)),
			 archive_entry_symlink(e) ? " (target '" : "",
			 archive_entry_symlink(e) ? archive_entry_symlink(e) : "",
			 archive_entry_symlink(e) ? "')" : "");
		rc = skip_entry(r, lv, who, name, why);
	} else if (fetch_path_check(name, why, sizeof(why)) < 0) {
		rc = skip_entry(r, lv, who, name, why);
	} else if (archive_entry_is_encrypted(e)) {
		rc = skip_entry(r, lv, who, name, "encrypted entry");
	} else if (archive_entry_size_is_set(e) &&
		   (uint64_t)archive_entry_size(e) > o->limits.max_file_size &&
		   !is_archive_name(name)) {
		snprintf(why, sizeof(why), "file of %lld bytes is over the cap of %llu",
			 (long long)archive_entry_size(e),
			 (unsigned long long)o->limits.max_file_size);
		rc = skip_entry(r, lv, who, name, why);
	} else if (is_archive_name(name) && lv->depth < o->limits.max_depth) {
		char *pre = NULL;
		if (who) {
			/* a student's own archive unpacks where it was */
			const char *path = lv->identified ? name : who->path;
			const char *slash = strrchr(path, '/');
			if (asprintf(&pre, "%s%.*s", lv->identified ? lv->prefix : "",
				     slash ? (int)(slash - path + 1) : 0, path) < 0)
				pre = NULL;
		} else if (asprintf(&pre, "%s/", logical) < 0) {
			pre = NULL;
		}
		if (!pre)
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		else if (lv->time)
			rc = nested(r, a, lv, lvl_out, name, who, pre, lv->time, lv->time_later,
				    err);
		else {
			int64_t when, later;
			when = entry_time(r, a, e, &later);
			rc = nested(r, a, lv, lvl_out, name, who, pre, when, later, err);
		}
		free(pre);
	} else if (!who) {
		if (o->layout == FETCH_LAYOUT_AUTO)
			snprintf(why, sizeof(why),
				 "name matches no known layout (canvas, "
				 "moodle, blackboard, nbgrader; see --layout)");
		else
			snprintf(why, sizeof(why), "name does not match the %s layout",
				 fetch_layout_name(o->layout));
		rc = skip_entry(r, lv, NULL, name, why);
	} else if (who->kind == FETCH_NAME_FILE && !who->path[0]) {
		rc = skip_entry(r, lv, who, name, "empty file name");
	} else {
		rc = stage_entry(r, a, lv, lvl_out, e, name, who, err);
	}
	return rc;
}

static int read_level(struct reading *r, struct archive *a, const struct level *lv,
		      struct gr_err *err)
{
	const struct fetch_opts *o = r->c->o;
	struct archive_entry *e;
	uint64_t lvl_out = 0;
	char *decoded = NULL, shown[512];
	size_t index = 0; /* of the entry in this archive, for names that cannot be shown */
	int rc = 0;

	while (!r->refused && rc == 0) {
		struct fetch_name parsed = {0}, *who = NULL;
		const char *raw, *name;
		char *logical = NULL, why[256];
		int h = archive_read_next_header(a, &e);
		int is_zip = (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;

		if (h == ARCHIVE_EOF && index == 0) {
			/* libarchive ends a RAR 5 cut at a header boundary quietly */
			refuse(r, lv, NULL, "no entries: the archive is empty or cut short", 1);
			break;
		}
		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			snprintf(why, sizeof(why), "corrupt or truncated archive: %s",
				 archive_error_string(a) ? archive_error_string(a) : "read error");
			refuse(r, lv, NULL, why, 1);
			break;
		}
		if (++r->entries > o->limits.max_entries) {
			snprintf(why, sizeof(why), "more than %zu entries (cap)",
				 o->limits.max_entries);
			refuse(r, lv, NULL, why, 0);
			break;
		}
		index++;
		/* the bytes as stored (the reader runs in a UTF-8 locale, see below) */
		raw = archive_entry_pathname(e);
		if (!raw) {
			snprintf(why, sizeof(why), "name cannot be read: %s",
				 archive_error_string(a) ? archive_error_string(a) : "unknown");
			snprintf(shown, sizeof(shown), "#%zu", index);
			rc = skip_entry_as(r, lv, lv->identified ? lv->who : NULL, shown, why, 1);
			continue;
		}
		free(decoded);
		decoded = NULL;
		int d =
		    fetch_decode_name(&decoded, &r->encoding, raw, is_zip, o->zip_charset, &r->odd);
		if (d == GR_ENOMEM) {
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			break;
		}
		/* undecodable: the escaped name may still tell whose it was */
		if (d < 0)
			fetch_escape_name(shown, sizeof(shown), raw);
		name = d < 0 ? shown : decoded;
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		if (archive_entry_filetype(e) == AE_IFDIR ||
		    (name[0] && name[strlen(name) - 1] == '/'))
			continue;
		/* who does this entry belong to? */
		if (lv->identified) {
			who = (struct fetch_name *)lv->who;
		} else {
			if (asprintf(&logical, "%s%s", lv->logical, name) < 0) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				break;
			}
			int p =
			    fetch_name_parse(&parsed, logical, o->layout, o->regex, o->assignment);
			if (p == GR_ENOMEM) {
				free(logical);
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				break;
			}
			if (p == 0)
				who = &parsed;
			int64_t later = 0;
			if (p == 0 && parsed.time_naive && o->lms_zone &&
			    gr_time_zone_to_utc_both(&parsed.time.sec, &later, parsed.time.sec,
						     o->lms_zone, NULL) == 0) {
				parsed.time_naive = 0;
				parsed.time_later = later != parsed.time.sec ? later : 0;
			}
		}
		if (d < 0)
			rc = skip_entry_as(r, lv, who, raw,
					   !is_zip ? "name is not valid UTF-8"
					   : o->zip_charset
					       ? "name is neither UTF-8 nor in --zip-charset"
					       : "name is neither UTF-8 nor CP437",
					   1);
		else
			rc = take_entry(r, a, lv, &lvl_out, e, name, logical, who, err);
		fetch_name_release(&parsed);
		free(logical);
	}
	free(decoded);
	return rc;
}

int fetch_archive_read(struct fetch_collect *c, size_t index, struct gr_err *err)
{
	const char *path = c->archives[index];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct reading r = {.c = c, .index = index, .shown = path};
	struct archive *a = NULL;
	size_t mark = c->nitems;
	struct gr_err herr = {0};
	locale_t utf8 = (locale_t)0, prev = (locale_t)0;
	int rc = 0;

	/*
	 * libarchive converts names to the current locale's charset, and in the
	 * "C" locale a zip's UTF-8 names convert to nothing. This thread reads
	 * in C.UTF-8 (uselocale is per thread): UTF-8 names arrive as UTF-8,
	 * names without a declared charset arrive as their bytes, and
	 * decode_name chooses.
	 */
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8 == (locale_t)0) {
		rc = gr_err_sys(err, GR_ESYS, errno, "cannot read archives: no C.UTF-8 locale");
		goto done;
	}
	prev = uselocale(utf8);
	r.buf = malloc(BLOCK);
	a = new_reader();
	if (!r.buf || !a) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (gr_sha256_file(c->archive_sha[index], path, &herr) < 0) {
		fetch_log(c->o, "'%s': refused: %s", path, herr.msg);
		c->archive_errors++;
		goto done;
	}
	if (archive_read_open_filename(a, path, BLOCK) != ARCHIVE_OK) {
		fetch_log(c->o, "'%s': refused: not a readable archive: %s", path,
			  archive_error_string(a) ? archive_error_string(a) : "unknown error");
		c->archive_errors++;
		goto done;
	}
	struct level top = {.chain = base, .depth = 0, .identified = 0, .logical = ""};
	/* one student's own archive: its entries are that student's, where they are */
	struct fetch_name owner = {.layout = FETCH_LAYOUT_NBGRADER,
				   .kind = FETCH_NAME_FILE,
				   .lms_id = (char *)c->o->owner,
				   .path = (char *)base};
	if (c->o->owner) {
		top.identified = 1;
		top.who = &owner;
		top.prefix = "";
		top.nest = ++c->nests;
	}
	rc = read_level(&r, a, &top, err);
	if (rc == 0 && !r.refused && r.odd.n) {
		/* mojibake would split a student in two or miss the roster: say so */
		char more[48] = "";
		if (r.odd.n > 1)
			snprintf(more, sizeof(more), " (and %zu more)", r.odd.n - 1);
		fetch_log(
		    c->o,
		    "'%s': warning: entry '%s'%s has no UTF-8 flag and reads as CP437 like "
		    "text of another code page%s%s%s; if the zip was made on a Windows in "
		    "another language, fetch again with --zip-charset (CP866 Cyrillic, "
		    "CP737 Greek, CP850 Western European, CP932 Japanese, CP936 Chinese, ...)",
		    path, r.odd.first, more, r.odd.alt[0] ? " (as CP866: '" : "", r.odd.alt,
		    r.odd.alt[0] ? "')" : "");
	}
	if (rc == 0 && r.refused) {
		fetch_log(c->o, "'%s': refused: %s; nothing from it was written", path, r.why);
		c->archive_errors++;
		rollback(c, mark);
	}
done:
	if (rc)
		rollback(c, mark);
	archive_read_free(a);
	free(r.buf);
	if (utf8 != (locale_t)0) {
		uselocale(prev);
		freelocale(utf8);
	}
	return rc;
}
