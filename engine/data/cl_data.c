#include "engine/data/cl_data.h"

#include "engine/base/cl_file.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

G_DEFINE_QUARK (cl - data - error - quark, cl_data_error)

/* Limits that no real dataset for this app comes near; they turn a corrupt header into a clean
 * error instead of a giant allocation. The payload cap keeps n*h*w inside an int, so callers may
 * index pixels with int arithmetic. */
#define CL_IDX_MAX_COUNT 10000000
#define CL_IDX_MAX_SIDE 4096
#define CL_IDX_MAX_PAYLOAD ((guint64) G_MAXINT)
/* The payload buffer grows as data actually arrives, so a tiny file with a huge (but
 * within-limits) header costs no more memory than it holds. */
#define CL_IDX_FIRST_CHUNK ((gsize) 64 << 20)

static guint32
be32 (const guint8 *b)
{
  return ((guint32) b[0] << 24) | ((guint32) b[1] << 16) | ((guint32) b[2] << 8) | (guint32) b[3];
}

/* How a gzip layer ended. */
typedef enum
{
  GZ_NONE,     /* the file is not gzip */
  GZ_COMPLETE, /* every member ended with its CRC and size checked */
  GZ_CUT,      /* the compressed data ended before the stream's end (trailer included) */
} GzEnd;

/* A file: its bytes, or the bytes its gzip layer inflates to. */
static gboolean
gunzip (const guint8 *in, gsize n, const char *path, guint8 **out, gsize *out_len, GzEnd *end, GError **error)
{
  z_stream z = { 0 };
  if (inflateInit2 (&z, 16 + MAX_WBITS) != Z_OK)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "%s: cannot start zlib", path);
      return FALSE;
    }
  /* The most a valid file can hold (header, payload, one more byte to see trailing data); the
   * buffer grows as data actually arrives, so a tiny file costs no more than it holds. */
  const gsize max = 16 + (gsize) CL_IDX_MAX_PAYLOAD + 1;
  gsize cap = MIN (MAX (n * 4, (gsize) 4096), CL_IDX_FIRST_CHUNK), have = 0;
  guint8 *buf = g_try_malloc (cap);
  const guint8 *next = in;
  gsize left = n;
  int rc = Z_OK;
  *end = GZ_CUT;
  while (buf)
    {
      if (have == cap)
        {
          if (cap >= max)
            break; /* more than any valid file: the IDX check reports trailing data */
          gsize grown = MIN (cap * 2, max);
          guint8 *nb = g_try_realloc (buf, grown);
          if (!nb)
            {
              g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "%s: cannot allocate %" G_GSIZE_FORMAT " bytes",
                           path, grown);
              g_free (buf);
              inflateEnd (&z);
              return FALSE;
            }
          buf = nb;
          cap = grown;
        }
      z.next_in = (Bytef *) next;
      z.avail_in = (uInt) MIN (left, (gsize) G_MAXUINT32);
      z.next_out = buf + have;
      z.avail_out = (uInt) MIN (cap - have, (gsize) G_MAXUINT32);
      rc = inflate (&z, Z_NO_FLUSH);
      have = (gsize) (z.next_out - buf);
      left -= (gsize) (z.next_in - next);
      next = z.next_in;
      if (rc == Z_STREAM_END)
        {
          /* gzip allows members one after another; anything else after the trailer is not gzip */
          if (left >= 2 && next[0] == 0x1F && next[1] == 0x8B && inflateReset (&z) == Z_OK)
            continue;
          if (left > 0)
            {
              g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                           "%s: corrupt or unreadable data: %" G_GSIZE_FORMAT " bytes after the gzip stream", path,
                           left);
              g_free (buf);
              inflateEnd (&z);
              return FALSE;
            }
          *end = GZ_COMPLETE;
          break;
        }
      if (rc == Z_OK || rc == Z_BUF_ERROR)
        {
          if (have < cap && (left == 0 || rc == Z_BUF_ERROR))
            break; /* no progress with room left: the input ended before the stream did (cut) */
          continue;
        }
      if (rc != Z_OK)
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "%s: corrupt or unreadable data: %s", path,
                       z.msg ? z.msg : "zlib error");
          g_free (buf);
          inflateEnd (&z);
          return FALSE;
        }
    }
  inflateEnd (&z);
  if (!buf)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "%s: cannot allocate memory", path);
      return FALSE;
    }
  *out = buf;
  *out_len = have;
  return TRUE;
}

/* The IDX layout in raw[0..len) (raw is taken: freed, or handed out as *data). end says how a
 * gzip layer ended, for the message when the data is short. */
static gboolean
parse_idx (guint8 *raw, gsize len, GzEnd end, const char *path, int ndim_expected, uint8_t **data, int dims[3],
           GError **error)
{
  const char *kind = ndim_expected == 3 ? "image" : "label";
  gsize header_len = 4 + 4 * (gsize) ndim_expected;
  char what[32];
  g_snprintf (what, sizeof what, "%s data", kind);
  gboolean ok = FALSE;
#define SHORT(WANT, GOT, WHAT)                                                                                         \
  do                                                                                                                   \
    {                                                                                                                  \
      if (end == GZ_CUT)                                                                                               \
        g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,                                                      \
                     "%s: truncated gzip stream: expected %" G_GSIZE_FORMAT " bytes of %s, got %" G_GSIZE_FORMAT       \
                     " before the compressed data ended",                                                              \
                     path, (gsize) (WANT), WHAT, (gsize) (GOT));                                                       \
      else                                                                                                             \
        g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,                                                      \
                     "%s: truncated: expected %" G_GSIZE_FORMAT " bytes of %s, got %" G_GSIZE_FORMAT, path,            \
                     (gsize) (WANT), WHAT, (gsize) (GOT));                                                             \
      goto out;                                                                                                        \
    }                                                                                                                  \
  while (0)
  if (len < 4)
    SHORT (header_len, len, "IDX header");
  if (raw[0] != 0 || raw[1] != 0)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: not an IDX file: bad magic number 0x%08X (expected 0x%08X for %s data)", path, be32 (raw),
                   0x800u + (unsigned) ndim_expected, kind);
      goto out;
    }
  if (raw[2] != 0x08)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: unsupported IDX element type 0x%02X (only unsigned byte, 0x08, is supported)", path, raw[2]);
      goto out;
    }
  if (raw[3] != ndim_expected)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: IDX file has %d dimensions, expected %d for %s data (magic 0x%08X)", path, raw[3],
                   ndim_expected, kind, 0x800u + (unsigned) ndim_expected);
      goto out;
    }
  if (len < header_len)
    SHORT (header_len, len, "IDX header");
  guint64 payload = 1;
  for (int d = 0; d < ndim_expected; d++)
    {
      guint32 v = be32 (raw + 4 + 4 * d);
      guint32 limit = d == 0 ? CL_IDX_MAX_COUNT : CL_IDX_MAX_SIDE;
      if (v == 0 || v > limit)
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                       "%s: implausible %s %u in the IDX header (expected 1..%u)", path,
                       d == 0   ? "item count"
                       : d == 1 ? "image height"
                                : "image width",
                       v, limit);
          goto out;
        }
      dims[d] = (int) v;
      /* each factor is <= 2^24 and the running product stays <= 2^31 after the check below */
      payload *= v;
      if (payload > CL_IDX_MAX_PAYLOAD)
        {
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                       "%s: IDX header declares more than %" G_GUINT64_FORMAT " bytes of %s data", path,
                       CL_IDX_MAX_PAYLOAD, kind);
          goto out;
        }
    }
  for (int d = ndim_expected; d < 3; d++)
    dims[d] = 1;
  gsize want = (gsize) payload, got = len - header_len;
  if (got < want)
    SHORT (want, got, what);
  if (got > want)
    {
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: trailing data after the %" G_GSIZE_FORMAT " bytes of %s declared by the header", path, want,
                   what);
      goto out;
    }
  if (end == GZ_CUT)
    {
      /* all the data is there but the CRC and size that would vouch for it are not */
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT,
                   "%s: truncated gzip stream: the data ends before the gzip trailer", path);
      goto out;
    }
  memmove (raw, raw + header_len, want);
  *data = g_realloc (raw, MAX (want, (gsize) 1));
  raw = NULL;
  ok = TRUE;
#undef SHORT
out:
  if (!ok)
    for (int d = 0; d < 3; d++)
      dims[d] = 0;
  g_free (raw);
  return ok;
}

gboolean
cl_idx_decode (const guint8 *bytes, gsize len, const char *name, int ndim_expected, uint8_t **data, int dims[3],
               GError **error)
{
  g_return_val_if_fail (ndim_expected == 1 || ndim_expected == 3, FALSE);
  *data = NULL;
  guint8 *raw = NULL;
  gsize raw_len = 0;
  GzEnd end = GZ_NONE;
  if (len >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B)
    {
      if (!gunzip (bytes, len, name, &raw, &raw_len, &end, error))
        return FALSE;
    }
  else
    raw = g_memdup2 (bytes, len), raw_len = len;
  return parse_idx (raw, raw_len, end, name, ndim_expected, data, dims, error);
}

gboolean
cl_idx_parse (const guint8 *payload, gsize len, const char *name, int ndim_expected, uint8_t **data, int dims[3],
              GError **error)
{
  g_return_val_if_fail (ndim_expected == 1 || ndim_expected == 3, FALSE);
  *data = NULL;
  return parse_idx (g_memdup2 (payload, len), len, GZ_NONE, name, ndim_expected, data, dims, error);
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
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING, "%s: is a folder, expected an IDX %s file", path, kind);
      return FALSE;
    }
  /* only a regular file of a size a valid one can have (a FIFO or /dev/zero is refused) */
  char *bytes = NULL;
  gsize len = 0;
  GError *local = NULL;
  if (!cl_file_read_regular (path, 16 + (gsize) CL_IDX_MAX_PAYLOAD, &bytes, &len, &local))
    {
      g_set_error (error, CL_DATA_ERROR,
                   g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? CL_DATA_ERROR_MISSING
                                                                             : CL_DATA_ERROR_CORRUPT,
                   "%s: cannot read: %s", path, local->message);
      g_error_free (local);
      return FALSE;
    }
  gboolean ok;
  if (len >= 2 && (guint8) bytes[0] == 0x1F && (guint8) bytes[1] == 0x8B)
    {
      ok = cl_idx_decode ((const guint8 *) bytes, len, path, ndim_expected, data, dims, error);
      g_free (bytes);
    }
  else
    ok = parse_idx ((guint8 *) bytes, len, GZ_NONE, path, ndim_expected, data, dims, error); /* takes bytes */
  return ok;
}

/* Base datasets the app knows by name, with the folder their package installs. */
typedef struct
{
  const char *name;
  const char *dir;
  const char *package;
  const char *const *class_names; /* by label, NULL-terminated */
} BaseDataset;

/* As the dataset's authors name them (Xiao, Rasul, Vollgraf 2017, the labels table). */
static const char *const fashion_mnist_classes[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot", NULL,
};

static const BaseDataset bases[] = {
  { "fashion-mnist", CL_FASHION_MNIST_DIR, "dataset-fashion-mnist", fashion_mnist_classes },
};

const char *
cl_data_class_name (const char *base_name, int label)
{
  if (base_name == NULL || base_name[0] == '\0')
    base_name = "fashion-mnist";
  for (gsize i = 0; i < G_N_ELEMENTS (bases); i++)
    if (strcmp (bases[i].name, base_name) == 0 && bases[i].class_names != NULL)
      {
        for (int k = 0; label >= 0 && bases[i].class_names[k] != NULL; k++)
          if (k == label)
            return bases[i].class_names[k];
        return NULL;
      }
  return NULL;
}

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
load_split (const BaseDataset *base, const char *dir, const char *split, ClImageSet *set, GError **error)
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
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_CORRUPT, "%s: %d labels, but %s holds %d images", lab_path,
                   ldims[0], img_path, idims[0]);
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
      g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING, "data.base=%s: unknown dataset; accepted values: %s",
                   base_name, names->str);
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
          g_set_error (error, CL_DATA_ERROR, CL_DATA_ERROR_MISSING, "data.path=%s: folder not found", path);
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

  if (!load_split (hint, dir, "train", &ds->train, error) || !load_split (hint, dir, "t10k", &ds->test, error))
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
