/* Image datasets held as uint8, with IDX (optionally gzip) readers. */
#pragma once
#include <glib.h>
#include <stdint.h>

typedef struct
{
  int n; /* number of images */
  int height, width;
  uint8_t *pixels; /* n * height * width, row-major, 0..255 */
  uint8_t *labels; /* n */
} ClImageSet;

typedef struct
{
  char *name; /* e.g. "fashion-mnist" */
  char *dir;  /* folder the files came from */
  int n_classes;
  ClImageSet train, test;
} ClDataset;

#define CL_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

#define CL_DATA_ERROR (cl_data_error_quark ())
GQuark cl_data_error_quark (void);
typedef enum
{
  CL_DATA_ERROR_MISSING, /* file or folder not there */
  CL_DATA_ERROR_CORRUPT, /* bad magic, truncated, inconsistent sizes */
} ClDataError;

/* Read one IDX file (plain or .gz, detected by content). ndim_expected is 1 (labels) or 3 (images).
 * On success *data is g_malloc'ed, dims[] filled (dims[0] = count; dims beyond ndim_expected are 1).
 * Limits: count <= 10 million, sides <= 4096, payload < 2^31 bytes (so n*h*w fits an int).
 * Truncation (plain or gzip, including a cut gzip trailer) and trailing bytes are errors. Errors name the file. */
gboolean cl_idx_read (const char *path, int ndim_expected, uint8_t **data, int dims[3], GError **error);

/* The same from a file's bytes in memory (plain or gzip; the gzip layer is inflated with its CRC
 * and size checked). name is used in messages. For fuzzing and tests. */
gboolean cl_idx_decode (const guint8 *bytes, gsize len, const char *name, int ndim_expected, uint8_t **data,
                        int dims[3], GError **error);
/* The IDX layout alone (an already-decompressed payload): what the gzip layer's checksum would
 * otherwise keep a fuzzer from reaching. */
gboolean cl_idx_parse (const guint8 *payload, gsize len, const char *name, int ndim_expected, uint8_t **data,
                       int dims[3], GError **error);

/* Load train and test splits. base: "fashion-mnist" (default folder CL_FASHION_MNIST_DIR, or the
 * environment variable CONTRASTLAB_FASHION_MNIST_DIR when set).
 * path: when non-empty, a folder holding MNIST-format files
 * {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; it overrides the base's folder.
 * A missing dataset error says how to install it (apt-get install dataset-fashion-mnist) or set data.path.
 * base NULL or "" means "fashion-mnist". Files may be plain or gzipped, and the dotted spelling
 * train-images.idx3-ubyte of some mirrors is accepted too. Checks: label count == image count per
 * split, train and test image sizes equal, every test label < n_classes (= max train label + 1). */
ClDataset *cl_dataset_load (const char *base, const char *path, GError **error);
void cl_dataset_free (ClDataset *ds);

/* The name of class label of a base dataset (data.base; NULL or "" is fashion-mnist), as its
 * authors name them: "T-shirt/top" for fashion-mnist's 0, ..., "Ankle boot" for 9. NULL for an
 * unknown base or label. A data.path folder may hold any dataset: its classes have no names. */
const char *cl_data_class_name (const char *base, int label);
