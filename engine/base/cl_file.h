/* Files, safely: the one way ContrastLab replaces a file, and the one way it reads a file it
 * did not write (a preset, a run folder, a dataset) without trusting it.
 *
 * Replacing: write a temp file beside the target, then put it in
 * place with one rename (or one link, when an existing target must not be replaced). A reader
 * sees the old file or the new one, never a mix, and a failed or killed write leaves no partial
 * target (at most a hidden temp ".NAME.XXXXXX", which cl_atomic_file_is_temp recognises).
 *
 *   cl_file_replace (path, text, -1, CL_FILE_REPLACE_DEFAULT, &error);   // whole buffers
 *
 *   ClAtomicFile *f = cl_atomic_file_new (path, &error);                 // streams (PNG, PDF)
 *   cl_atomic_file_write (f, data, n) ...  or write to cl_atomic_file_fd (f) / cl_atomic_file_path (f)
 *   cl_atomic_file_commit (f, flags, &error);                            // or cl_atomic_file_abort (f)
 *
 * Errors are G_FILE_ERROR with the code of errno; every message names the target (never the
 * temp). Pure C + GLib + POSIX. */
#pragma once
#include <glib.h>

typedef enum
{
  CL_FILE_REPLACE_DEFAULT = 0,        /* replace an existing regular file; fsync file and folder */
  CL_FILE_REPLACE_NO_SYNC = 1 << 0,   /* no fsync: atomic against a crash of this process, not against
                                       * power loss (for frequent small rewrites on the GUI thread) */
  CL_FILE_REPLACE_EXCLUSIVE = 1 << 1, /* refuse an existing target with G_FILE_ERROR_EXIST and leave it
                                       * untouched (atomic: the temp is hard-linked into place) */
} ClFileReplaceFlags;

/* Writes len bytes (len < 0: a NUL-terminated string) to path atomically. A target that exists
 * but is not a regular file (a folder, a device, a FIFO) is never replaced. */
gboolean cl_file_replace (const char *path, const void *data, gssize len, ClFileReplaceFlags flags, GError **error);

typedef struct ClAtomicFile ClAtomicFile;

/* Creates the temp file ".NAME.XXXXXX" in path's folder (so the rename cannot cross file
 * systems). NULL with error set when it cannot be created. */
ClAtomicFile *cl_atomic_file_new (const char *path, GError **error);
/* The temp's descriptor and name, for writers that need one (libpng, cairo streams). */
int cl_atomic_file_fd (ClAtomicFile *file);
const char *cl_atomic_file_temp_path (ClAtomicFile *file);
/* Appends bytes, retrying short writes. The first failure is remembered (commit reports it);
 * later writes do nothing. */
gboolean cl_atomic_file_write (ClAtomicFile *file, const void *data, gsize len);
/* Marks the file failed with errno err (for writers that write to the descriptor themselves). */
void cl_atomic_file_set_errno (ClAtomicFile *file, int err);
/* Flushes (fsync unless NO_SYNC), closes and puts the temp in place; frees file. On any failure
 * the temp is removed, the target is left as it was, and error names the target. */
gboolean cl_atomic_file_commit (ClAtomicFile *file, ClFileReplaceFlags flags, GError **error);
/* Removes the temp and frees file (NULL is fine). */
void cl_atomic_file_abort (ClAtomicFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClAtomicFile, cl_atomic_file_abort)

/* Reads path whole if it is a regular file (after following symlinks) of at most max_bytes:
 * a FIFO, a device (/dev/zero), a socket or a folder is refused without blocking, and so is a
 * file larger than max_bytes (checked before reading and while reading, for files that grow).
 * *data is NUL-terminated; len (optional) gets its length. Errors are G_FILE_ERROR naming the
 * path: NOENT when absent, INVAL for "not a regular file" (ISDIR for a folder), FAILED for "too large". */
gboolean cl_file_read_regular (const char *path, gsize max_bytes, char **data, gsize *len, GError **error);

/* TRUE when name (a file name, no folder) is a temp file of target that a killed write left
 * behind: ".TARGET.XXXXXX", or the "TARGET.XXXXXX" of older versions and g_file_set_contents. */
gboolean cl_atomic_file_is_temp (const char *name, const char *target);
