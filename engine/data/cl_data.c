#include "engine/data/cl_data.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

G_DEFINE_QUARK (cl-data-error-quark, cl_data_error)

/* Limits that no real dataset for this app comes near; they turn a corrupt header into a clean
 * error instead of a giant allocation. The payload cap keeps n*h*w inside an int, so callers may
 * index pixels with int arithmetic. */
#define CL_IDX_MAX_COUNT 10000000
#define CL_IDX_MAX_SIDE 4096
#define CL_IDX_MAX_PAYLOAD ((guint64) G_MAXINT)
/* The payload buffer grows as data actually arrives, so a tiny file with a huge (but
 * within-limits) header costs no more memory than it holds. */
#define CL_IDX_FIRST_CHUNK ((gsize) 64 << 20)

typedef enum {
  READ_OK,
  READ_SHORT,     /* plain end of file before the wanted count */
  READ_GZ_CUT,    /* gzip stream ended before its end marker */
  READ_FAILED,    /* corrupt compressed data or an I/O error; message in *why */
} ReadStatus;

/* Reads up to len bytes; *got receives how many arrived. zlib reports a cut gzip stream as a
 * short read with Z_BUF_ERROR pending, so both the count and the error state are consulted. */
static ReadStatus
read_some (gzFile f, void *buf, gsize len, gsize *got, const char **why)
{
  *got = 0;
  while (*got < len)
    {
      gsize want = MIN (len - *got, (gsize) 1 << 30);
      int n = gzread (f, (char *) buf + *got, (unsigned) want);
      if (n < 0)
        {
          int errnum;
          const char *msg = gzerror (f, &errnum);
          *why = errnum == Z_ERRNO ? g_strerror (errno) : msg;
          return READ_FAILED;
        }
      *got += (gsize) n;
      if ((gsize) n < want)
        break;
    }
  /* zlib inflates ahead into its own buffer, so a cut stream can flag Z_BUF_ERROR while the
   * bytes asked for so far are all good; the cut is reported by the read that comes up short. */
  if (*got == len)
    return READ_OK;
  int errnum = Z_OK;
  const char *msg = gzerror (f, &errnum);
  if (errnum == Z_BUF_ERROR)
    return READ_GZ_CUT;
  if (errnum != Z_OK)
    {
      *why = errnum == Z_ERRNO ? g_strerror (errno) : msg;
      return READ_FAILED;
    }
  return READ_SHORT;
}

/* zlib prefixes its messages with the path, which our messages already start with. */
static const char *
strip_path (const char *msg, const char *path)
{
  gsize n = strlen (path);
  if (msg != NULL && strncmp (msg, path, n) == 0 && strncmp (msg + n, ": ", 2) == 0)
    return msg + n + 2;
  return msg;
}

static gboolean
fail_read (const char *path, ReadStatus st, const char *why, const char *what, gsize want,
           gsize got, GError **error)
{
  switch (st)
    {
    case READ_GZ_CUT:
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: truncated gzip stream: expected %" G_GSIZE_FORMAT " bytes of %s, got %"
                   G_GSIZE_FORMAT " before the compressed data ended",
                   path, want, what, got);
      break;
    case READ_FAILED:
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: corrupt or unreadable data: %s", path,
                   why ? strip_path (why, path) : "unknown error");
      break;
    case READ_SHORT:
    case READ_OK:
    default:
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: truncated: expected %" G_GSIZE_FORMAT " bytes of %s, got %" G_GSIZE_FORMAT,
                   path, want, what, got);
      break;
    }
  return FALSE;
}

static guint32
be32 (const guint8 *b)
{
  return ((guint32) b[0] << 24) | ((guint32) b[1] << 16) | ((guint32) b[2] << 8) | (guint32) b[3];
}

gboolean
cl_idx_read (const char *path, int ndim_expected, uint8_t **data, int dims[3], GError **error)
{
  g_return_val_if_fail (path != NULL && data != NULL && dims != NULL, FALSE);
  g_return_val_if_fail (ndim_expected == 1 || ndim_expected == 3, FALSE);

  *data = NULL;
  const char *kind = ndim_expected == 3 ? "image" : "label";

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING, "%s: not found", path);
      return FALSE;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING,
                   "%s: is a folder, expected an IDX %s file", path, kind);
      return FALSE;
    }

  gzFile f = gzopen (path, "rb");
  if (f == NULL)
    {
      int saved = errno;
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING, "%s: cannot open: %s", path,
                   saved ? g_strerror (saved) : "out of memory");
      return FALSE;
    }
  gzbuffer (f, 1u << 18);

  gboolean ok = FALSE;
  guint8 *buf = NULL;
  const char *why = NULL;
  gsize got = 0;
  guint8 header[4 + 4 * 3];
  gsize header_len = 4 + 4 * (gsize) ndim_expected;

  ReadStatus st = read_some (f, header, 4, &got, &why);
  if (st != READ_OK)
    {
      fail_read (path, st, why, "IDX header", header_len, got, error);
      goto out;
    }
  if (header[0] != 0 || header[1] != 0)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: not an IDX file: bad magic number 0x%08X (expected 0x%08X for %s data)",
                   path, be32 (header), 0x800u + (unsigned) ndim_expected, kind);
      goto out;
    }
  if (header[2] != 0x08)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: unsupported IDX element type 0x%02X (only unsigned byte, 0x08, is supported)",
                   path, header[2]);
      goto out;
    }
  if (header[3] != ndim_expected)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: IDX file has %d dimensions, expected %d for %s data (magic 0x%08X)",
                   path, header[3], ndim_expected, kind, 0x800u + (unsigned) ndim_expected);
      goto out;
    }
  st = read_some (f, header + 4, header_len - 4, &got, &why);
  if (st != READ_OK)
    {
      fail_read (path, st, why, "IDX header", header_len, got + 4, error);
      goto out;
    }

  guint64 payload = 1;
  for (int d = 0; d < ndim_expected; d++)
    {
      guint32 v = be32 (header + 4 + 4 * d);
      guint32 limit = d == 0 ? CL_IDX_MAX_COUNT : CL_IDX_MAX_SIDE;
      if (v == 0 || v > limit)
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                       "%s: implausible %s %u in the IDX header (expected 1..%u)", path,
                       d == 0 ? "item count" : d == 1 ? "image height" : "image width", v, limit);
          goto out;
        }
      dims[d] = (int) v;
      /* Each factor is <= 2^24 and the running product stays <= 2^31 after the check below,
       * so this cannot overflow 64 bits. */
      payload *= v;
      if (payload > CL_IDX_MAX_PAYLOAD)
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                       "%s: IDX header declares more than %" G_GUINT64_FORMAT " bytes of %s data",
                       path, CL_IDX_MAX_PAYLOAD, kind);
          goto out;
        }
    }
  for (int d = ndim_expected; d < 3; d++)
    dims[d] = 1;

  gsize want = (gsize) payload;
  gsize cap = MIN (want, CL_IDX_FIRST_CHUNK);
  buf = g_try_malloc (cap);
  if (buf == NULL)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: cannot allocate %" G_GSIZE_FORMAT " bytes for %s data", path, cap, kind);
      goto out;
    }
  gsize have = 0;
  char what[32];
  g_snprintf (what, sizeof what, "%s data", kind);
  for (;;)
    {
      st = read_some (f, buf + have, cap - have, &got, &why);
      have += got;
      if (st != READ_OK)
        {
          fail_read (path, st, why, what, want, have, error);
          goto out;
        }
      if (have == want)
        break;
      gsize grown = MIN (want, cap * 2);
      guint8 *nb = g_try_realloc (buf, grown);
      if (nb == NULL)
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                       "%s: cannot allocate %" G_GSIZE_FORMAT " bytes for %s data", path, grown,
                       kind);
          goto out;
        }
      buf = nb;
      cap = grown;
    }

  /* One more byte tells trailing garbage apart from a clean end, and also surfaces a gzip stream
   * that was cut inside its trailer (CRC not yet verified). */
  guint8 extra;
  st = read_some (f, &extra, 1, &got, &why);
  if (st == READ_OK)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: trailing data after the %" G_GSIZE_FORMAT " bytes of %s declared by the header",
                   path, want, what);
      goto out;
    }
  if (st != READ_SHORT)
    {
      if (st == READ_GZ_CUT)
        g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                     "%s: truncated gzip stream: the data ends before the gzip trailer", path);
      else
        fail_read (path, st, why, what, want, have, error);
      goto out;
    }

  *data = buf;
  buf = NULL;
  ok = TRUE;

out:
  g_free (buf);
  gzclose_r (f);
  return ok;
}

/* Base datasets the app knows by name, with the folder their package installs. */
typedef struct {
  const char *name;
  const char *dir;
  const char *package;
} BaseDataset;

static const BaseDataset bases[] = {
  { "fashion-mnist", CL_FASHION_MNIST_DIR, "dataset-fashion-mnist" },
};

/* Both spellings seen in the wild: the original "train-images-idx3-ubyte" and the dotted
 * "train-images.idx3-ubyte" of some mirrors, each plain or gzipped. */
static char *
find_idx_file (const char *dir, const char *split, const char *what, const char *idx)
{
  static const char *const seps[] = { "-", "." };
  static const char *const exts[] = { ".gz", "" };
  for (gsize s = 0; s < G_N_ELEMENTS (seps); s++)
    for (gsize e = 0; e < G_N_ELEMENTS (exts); e++)
      {
        char *name = g_strdup_printf ("%s-%s%s%s-ubyte%s", split, what, seps[s], idx, exts[e]);
        char *full = g_build_filename (dir, name, NULL);
        g_free (name);
        if (g_file_test (full, G_FILE_TEST_IS_REGULAR))
          return full;
        g_free (full);
      }
  return NULL;
}

static gboolean
load_split (const BaseDataset *base, const char *dir, const char *split, ClImageSet *set,
            GError **error)
{
  char *img_path = find_idx_file (dir, split, "images", "idx3");
  char *lab_path = find_idx_file (dir, split, "labels", "idx1");
  gboolean ok = FALSE;

  if (img_path == NULL || lab_path == NULL)
    {
      const char *what = img_path == NULL ? "images-idx3" : "labels-idx1";
      char *expected = g_strdup_printf ("%s/%s-%s-ubyte.gz", dir, split, what);
      if (base != NULL)
        g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING,
                     "data.base=%s: %s not found; install it with 'sudo apt-get install %s' or set "
                     "data.path to a folder of MNIST-format IDX files",
                     base->name, expected, base->package);
      else
        g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING,
                     "data.path=%s: %s not found (with or without .gz); expected a folder of "
                     "MNIST-format IDX files {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]",
                     dir, expected);
      g_free (expected);
      goto out;
    }

  int idims[3], ldims[3];
  if (!cl_idx_read (img_path, 3, &set->pixels, idims, error))
    goto out;
  if (!cl_idx_read (lab_path, 1, &set->labels, ldims, error))
    goto out;
  if (ldims[0] != idims[0])
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: %d labels, but %s holds %d images", lab_path, ldims[0], img_path, idims[0]);
      goto out;
    }
  set->n = idims[0];
  set->height = idims[1];
  set->width = idims[2];
  ok = TRUE;

out:
  g_free (img_path);
  g_free (lab_path);
  return ok;
}

static void
image_set_clear (ClImageSet *set)
{
  g_clear_pointer (&set->pixels, g_free);
  g_clear_pointer (&set->labels, g_free);
}

ClDataset *
cl_dataset_load (const char *base_name, const char *path, GError **error)
{
  if (base_name == NULL || base_name[0] == '\0')
    base_name = "fashion-mnist";

  const BaseDataset *base = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (bases); i++)
    if (strcmp (bases[i].name, base_name) == 0)
      base = &bases[i];
  if (base == NULL)
    {
      GString *names = g_string_new (NULL);
      for (gsize i = 0; i < G_N_ELEMENTS (bases); i++)
        g_string_append_printf (names, "%s%s", i ? ", " : "", bases[i].name);
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING,
                   "data.base=%s: unknown dataset; accepted values: %s", base_name, names->str);
      g_string_free (names, TRUE);
      return NULL;
    }

  const char *dir = base->dir;
  /* Lets a user (and the tests) point the named dataset at another install location. */
  const char *env_dir = strcmp (base->name, "fashion-mnist") == 0 ? g_getenv ("CONTRASTLAB_FASHION_MNIST_DIR") : NULL;
  if (env_dir && *env_dir)
    dir = env_dir;
  const BaseDataset *hint = base;
  if (path != NULL && path[0] != '\0')
    {
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING,
                       "data.path=%s: folder not found", path);
          return NULL;
        }
      if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING,
                       "data.path=%s: is a file; expected a folder holding MNIST-format IDX files "
                       "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]",
                       path);
          return NULL;
        }
      dir = path;
      hint = NULL;
    }

  ClDataset *ds = g_new0 (ClDataset, 1);
  ds->name = g_strdup (base->name);
  ds->dir = g_strdup (dir);

  if (!load_split (hint, dir, "train", &ds->train, error)
      || !load_split (hint, dir, "t10k", &ds->test, error))
    goto fail;

  if (ds->train.height != ds->test.height || ds->train.width != ds->test.width)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: train images are %dx%d but test (t10k) images are %dx%d; both splits must "
                   "have the same size",
                   dir, ds->train.height, ds->train.width, ds->test.height, ds->test.width);
      goto fail;
    }

  int max_label = 0;
  for (int i = 0; i < ds->train.n; i++)
    max_label = MAX (max_label, ds->train.labels[i]);
  ds->n_classes = max_label + 1;
  /* A test label the train split never uses would index past the probe's classes. */
  for (int i = 0; i < ds->test.n; i++)
    if (ds->test.labels[i] >= ds->n_classes)
      {
        g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                     "%s: test (t10k) label %d at index %d is not among the train split's %d "
                     "classes (0..%d)",
                     dir, ds->test.labels[i], i, ds->n_classes, max_label);
        goto fail;
      }
  return ds;

fail:
  cl_dataset_free (ds);
  return NULL;
}

void
cl_dataset_free (ClDataset *ds)
{
  if (ds == NULL)
    return;
  image_set_clear (&ds->train);
  image_set_clear (&ds->test);
  g_free (ds->name);
  g_free (ds->dir);
  g_free (ds);
}
