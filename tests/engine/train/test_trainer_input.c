/* The trainer on bad input: datasets smaller than a batch (issue 16 #1, a SIGFPE before) and
 * divergence bookkeeping (issue 16 #8: the last row with non-finite cells, step counts that
 * disagreed). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "engine/data/cl_data.h"
#include "engine/train/cl_trainer.h"
#include "tests/engine/train/train_test_util.h"

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, x, 4);
}

/* An MNIST-format folder with n_train training and n_test test images of 28x28. */
static char *
tiny_dataset (int n_train, int n_test)
{
  char *dir = g_dir_make_tmp ("cl-tiny-data-XXXXXX", NULL);
  const char *split[2] = { "train", "t10k" };
  int n[2] = { n_train, n_test };
  for (int s = 0; s < 2; s++)
    {
      GByteArray *img = g_byte_array_new (), *lab = g_byte_array_new ();
      put32 (img, 0x803);
      put32 (img, (guint32) n[s]);
      put32 (img, 28);
      put32 (img, 28);
      put32 (lab, 0x801);
      put32 (lab, (guint32) n[s]);
      for (int i = 0; i < n[s]; i++)
        {
          for (int p = 0; p < 28 * 28; p++)
            {
              guint8 v = (guint8) ((p * 7 + i * 31) & 0xFF);
              g_byte_array_append (img, &v, 1);
            }
          guint8 l = (guint8) (i % MIN (2, n_train));
          g_byte_array_append (lab, &l, 1);
        }
      g_autofree char *ip = g_strdup_printf ("%s/%s-images-idx3-ubyte", dir, split[s]);
      g_autofree char *lp = g_strdup_printf ("%s/%s-labels-idx1-ubyte", dir, split[s]);
      g_assert_true (g_file_set_contents (ip, (const char *) img->data, img->len, NULL));
      g_assert_true (g_file_set_contents (lp, (const char *) lab->data, lab->len, NULL));
      g_byte_array_unref (img);
      g_byte_array_unref (lab);
    }
  return dir;
}

static void
remove_dataset (const char *dir)
{
  const char *names[] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                          "t10k-labels-idx1-ubyte" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
tiny_config (ClConfig *cfg, const char *dir)
{
  cl_config_init (cfg);
  g_strlcpy (cfg->data_path, dir, sizeof cfg->data_path);
  cfg->train_threads = 1;
  cfg->data_bits = 2;
  cfg->probe_every = 0;
  cfg->train_steps = 3;
}

/* 10 images with the default batch of 256, and 1 image with batch 4: a clear error naming
 * train.batch and the image count (was SIGFPE in cl_rng_below via pick_subset). 10 images with
 * batch 4 and 32 similarity images train (the similarity images are limited to the data). */
static void
test_tiny_dataset (void)
{
  struct
  {
    int n_train, batch, sim;
    gboolean ok;
  } cases[] = { { 10, 256, 32, FALSE }, { 1, 4, 2, FALSE }, { 10, 4, 32, TRUE }, { 4, 4, 128, TRUE } };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *dir = tiny_dataset (cases[c].n_train, 3);
      ClConfig cfg;
      tiny_config (&cfg, dir);
      cfg.train_batch = cases[c].batch;
      cfg.probe_sim_images = cases[c].sim;
      GError *error = NULL;
      ClTrainer *t = cl_trainer_new (&cfg, &error);
      if (!cases[c].ok)
        {
          g_assert_null (t);
          g_assert_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE);
          g_autofree char *want =
              g_strdup_printf ("train.batch: %d is more than the %d training images", cases[c].batch, cases[c].n_train);
          g_assert_nonnull (strstr (error->message, want));
          g_test_message ("%s", error->message);
          g_clear_error (&error);
        }
      else
        {
          g_assert_no_error (error);
          for (int s = 0; s < 3; s++)
            cl_trainer_step (t);
          cl_trainer_publish (t);
          ClSnapshot *snap = cl_trainer_get_snapshot (t);
          g_assert_cmpint (snap->step, ==, 3);
          g_assert_null (snap->error);
          cl_snapshot_unref (snap);
          cl_trainer_free (t);
        }
      remove_dataset (dir);
    }
}

/* A run that blows up: every recorded row has finite values, and the message's step count is the
 * run's (the rows, the snapshot's step and "after N whole steps" agree). */
static void
test_divergence_bookkeeping (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_true (cl_config_set (&cfg, "loss.kind", "swd-normal", NULL));
  cfg.loss_lambda = 100;
  g_assert_true (cl_config_set (&cfg, "train.optimizer", "sgd", NULL));
  cfg.train_batch = 16;
  cfg.probe_every = 0;
  cfg.probe_images = 100;
  cfg.train_steps = 40;
  cfg.train_lr = 10;
  cfg.train_threads = 1;
  ClTrainer *t = train_test_run_to_end (&cfg);
  ClSnapshot *snap = cl_trainer_get_snapshot (t);
  g_assert_nonnull (snap->error);
  g_test_message ("%s (%d rows)", snap->error, snap->n_rows);
  g_assert_true (g_str_has_prefix (snap->error, "training diverged"));
  g_autofree char *after = g_strdup_printf ("after %" G_GINT64_FORMAT " whole steps", snap->step);
  g_assert_nonnull (strstr (snap->error, after));
  g_assert_cmpint (snap->n_rows, ==, snap->step);
  for (int i = 0; i < snap->n_rows; i++)
    {
      const ClMetricRow *r = &snap->rows[i];
      g_assert_true (isfinite (r->loss) && isfinite (r->alignment) && isfinite (r->distribution));
      g_assert_true (isfinite (r->wi_alignment) && isfinite (r->wi_uniformity) && isfinite (r->z_std));
    }
  cl_snapshot_unref (snap);
  cl_trainer_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer/tiny-dataset", test_tiny_dataset);
  g_test_add_func ("/trainer/divergence-bookkeeping", test_divergence_bookkeeping);
  return g_test_run ();
}
