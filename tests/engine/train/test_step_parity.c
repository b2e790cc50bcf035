/* One whole training step of the ConvN model against PyTorch (llm.c's test_gpt2 idea): forward
 * activations of every layer, the NT-Xent loss and dL/dz, every parameter gradient, the running
 * statistics and the Adam-updated parameters, compared with tests/reference/step_fixture.bin, made
 * by tests/reference/make_step_fixture.py with Debian's python3-torch (see its docstring for the
 * step). The fixture holds the float64 values of the step and, per tensor, err32: how far PyTorch's
 * own float32 run of the same step lands from them. Tolerance, fixed before looking at our numbers:
 * max |ours - float64| <= 4 err32 + 4 ulp(max |float64|): a float32 implementation summing in
 * another order errs by about as much as PyTorch's float32 does, not by 4 times more. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/nn/cl_layers.h"
#include "engine/nn/cl_loss.h"
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"

#define N_IMAGES 4
#define N_VIEWS (2 * N_IMAGES)

typedef struct
{
  char name[32];
  guint32 n;
  double err32;
  float *v;
} Record;

static Record records[32];
static int n_records;

static void
load_fixture (void)
{
  if (n_records > 0)
    return;
  gchar *data = NULL;
  gsize len = 0;
  GError *error = NULL;
  g_assert_true (g_file_get_contents (STEP_FIXTURE, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 12);
  g_assert_cmpmem (data, 8, "CLSTEP01", 8);
  gsize off = 8;
  guint32 count;
  memcpy (&count, data + off, 4);
  off += 4;
  g_assert_cmpuint (count, <=, G_N_ELEMENTS (records));
  for (guint32 r = 0; r < count; r++)
    {
      Record *rec = &records[n_records++];
      guint32 name_len;
      g_assert_cmpuint (off + 4, <=, len);
      memcpy (&name_len, data + off, 4);
      off += 4;
      g_assert_cmpuint (name_len, <, sizeof rec->name);
      g_assert_cmpuint (off + name_len + 12, <=, len);
      memcpy (rec->name, data + off, name_len);
      off += name_len;
      memcpy (&rec->n, data + off, 4);
      memcpy (&rec->err32, data + off + 4, 8);
      off += 12;
      g_assert_cmpuint (off + (gsize) rec->n * 4, <=, len);
      rec->v = g_new (float, rec->n);
      memcpy (rec->v, data + off, (gsize) rec->n * 4);
      off += (gsize) rec->n * 4;
    }
  g_assert_cmpuint (off, ==, len);
  g_free (data);
}

static const Record *
record (const char *name)
{
  for (int r = 0; r < n_records; r++)
    if (strcmp (records[r].name, name) == 0)
      return &records[r];
  g_error ("step fixture has no tensor %s", name);
  return NULL;
}

/* Compares ours with the fixture's tensor under the rule in the header; reports the margin. */
static void
check (const char *name, const float *ours, size_t n)
{
  const Record *rec = record (name);
  g_assert_cmpuint (rec->n, ==, n);
  double ref_max = 0, worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < n; i++)
    {
      ref_max = fmax (ref_max, fabs (rec->v[i]));
      double d = fabs ((double) ours[i] - rec->v[i]);
      g_assert_true (isfinite (d));
      if (d > worst)
        {
          worst = d;
          worst_i = i;
        }
    }
  double ulp = ref_max > 0 ? ldexp (1.0, ilogb (ref_max) - 23) : 0;
  double tol = 4 * rec->err32 + 4 * ulp;
  g_test_message ("%-8s n=%6zu max|ref| %.3e  max|ours - ref| %.3e (PyTorch float32 %.3e)  tolerance %.3e", name, n,
                  ref_max, worst, rec->err32, tol);
  if (worst > tol)
    g_error ("%s[%zu]: ours %.9g, PyTorch float64 %.9g: |difference| %.3e > tolerance %.3e", name, worst_i,
             (double) ours[worst_i], (double) rec->v[worst_i], worst, tol);
}

static void
run_step (gconstpointer data)
{
  int threads = GPOINTER_TO_INT (data);
  load_fixture ();
  cl_layers_use_threads (threads);

  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = "convn";
  spec.in_channels = 2;
  spec.height = spec.width = 28;
  spec.width_mult = 0.25;
  spec.head_layers = 2;
  spec.rep_dim = 32;
  spec.head_hidden = 64;
  spec.out_dim = 16;
  spec.max_views = N_VIEWS;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);

  const Record *p0 = record ("params0"), *b0 = record ("buffers0"), *x = record ("x");
  g_assert_cmpuint (cl_model_num_params (model), ==, p0->n);
  g_assert_cmpuint (cl_model_num_buffers (model), ==, b0->n);
  g_assert_cmpuint (x->n, ==, (gsize) N_VIEWS * 2 * 28 * 28);
  memcpy (cl_model_params (model), p0->v, sizeof (float) * p0->n);
  memcpy (cl_model_buffers (model), b0->v, sizeof (float) * b0->n);

  /* forward */
  const float *z = cl_model_forward (model, x->v, N_VIEWS, TRUE);
  g_assert_cmpint (cl_model_num_layers (model), ==, 6);
  for (int l = 0; l < 6; l++)
    {
      size_t size;
      const float *a = cl_model_layer_output (model, l, &size);
      char name[8];
      g_snprintf (name, sizeof name, "act%d", l);
      check (name, a, size * N_VIEWS);
    }
  check ("buffers1", cl_model_buffers (model), cl_model_num_buffers (model));

  /* loss */
  int d = cl_model_out_dim (model);
  float *dz = g_new (float, (size_t) N_VIEWS *d), *ws = g_new (float, cl_ntxent_workspace_floats (N_IMAGES, d));
  ClLossResult res = cl_ntxent (z, N_IMAGES, d, 0.1f, dz, ws);
  float loss = (float) res.loss;
  check ("loss", &loss, 1);
  check ("dz", dz, (size_t) N_VIEWS * d);

  /* backward: every gradient (kernels, then gamma and beta of each BatchNorm) */
  cl_model_backward (model, dz);
  check ("grads", cl_model_grads (model), cl_model_num_params (model));

  /* Adam's first update (lr 1e-3, weight decay 1e-4 on the kernels) */
  ClOptimizer *opt =
      cl_optimizer_new (CL_OPTIMIZER_ADAM, cl_model_num_params (model), cl_model_num_decay_params (model));
  cl_optimizer_step (opt, cl_model_params (model), cl_model_grads (model), 1e-3f, 1e-4f);
  check ("params1", cl_model_params (model), cl_model_num_params (model));

  cl_optimizer_free (opt);
  g_free (dz);
  g_free (ws);
  cl_model_free (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/train/step-parity/pytorch/1-thread", GINT_TO_POINTER (1), run_step);
  g_test_add_data_func ("/train/step-parity/pytorch/2-threads", GINT_TO_POINTER (2), run_step);
  int rc = g_test_run ();
  for (int r = 0; r < n_records; r++)
    g_free (records[r].v);
  return rc;
}
