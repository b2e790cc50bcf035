/* Per-layer profile of one training step: the time of each block's kernel (conv/dense) and of its
 * BatchNorm + ReLU, forward and backward, plus the loss and the optimizer, for convn (9 input planes,
 * 28x28) and convn-same (1 plane, 64x64), on views prepared once. This is the table the speed work
 * is planned from; bench_step gives the whole-step figure next to PyTorch.
 *
 * cl_model.c is compiled into this program with CL_MODEL_PROFILE, which makes it time each block
 * (the engine library's copy, without the timers, is not linked in: every cl_model symbol is
 * resolved here first). Times are wall-clock of the calling thread, so with --threads 2 a block's
 * time includes waiting for the team; each figure is the minimum over the repetitions of the mean
 * over --steps steps (the minimum is the least disturbed by other processes).
 *
 * Usage: bench_layers [--arch A] [--batch B] [--threads T] [--steps S] [--reps R]
 * Exit 0 when it ran, 1 when a model could not be built or the loss was not finite, 2 on bad options. */
#define CL_MODEL_PROFILE 1
#include "engine/nn/cl_model.c"

#include <stdio.h>
#include <stdlib.h>

#include "engine/nn/cl_kernels_info.h"
#include "engine/nn/cl_loss.h"
#include "engine/nn/cl_optimizer.h"

#define BENCH_TAU 0.1f

static int opt_batch = 0, opt_threads = 0, opt_steps = 3, opt_reps = 5, opt_planes = 0;
static gboolean opt_no_fold = FALSE;
static char *opt_arch = NULL, *opt_kernels = NULL;

static const struct
{
  const char *arch;
  int planes, size;
  int batches[2];
} profiles[] = {
  { "convn", 9, 28, { 256, 1000 } },
  { "convn-same", 1, 64, { 128, 256 } },
};

static void
block_name (const ClModel *m, int i, char *buf, size_t size)
{
  const ClBlock *b = &m->blocks[i];
  if (b->is_conv)
    g_snprintf (buf, size, "conv%d %dx%d", i + 1, b->conv.out_h, b->conv.out_w);
  else if (i == m->rep_block)
    g_snprintf (buf, size, "dense %d", b->dense.out);
  else
    g_snprintf (buf, size, "head %d", b->dense.out);
}

static gboolean
profile (const char *arch, int planes, int size, int batch, int threads)
{
  cl_layers_use_threads (threads);
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = arch;
  spec.in_channels = planes;
  spec.height = spec.width = size;
  spec.max_views = 2 * batch;
  GError *error = NULL;
  ClModel *m = cl_model_new (&spec, 1, &error);
  if (!m)
    {
      fprintf (stderr, "bench_layers: %s\n", error->message);
      g_error_free (error);
      return FALSE;
    }
  /* The trainer's setting: planes after the first are constant bit planes, folded into conv1's bias. */
  if (!opt_no_fold)
    cl_model_set_constant_input_planes (m, 1);
  const int n = 2 * batch, d = cl_model_out_dim (m);
  const size_t plane = (size_t) size * size, insz = (size_t) planes * plane;
  float *x = g_new (float, (size_t) n *insz);
  ClRng rng;
  cl_rng_seed (&rng, 5, 1);
  for (int v = 0; v < n; v++)
    for (int c = 0; c < planes; c++)
      {
        const float bit = (float) cl_rng_below (&rng, 2);
        for (size_t j = 0; j < plane; j++)
          x[((size_t) v * planes + c) * plane + j] = c == 0 ? (float) cl_rng_uniform (&rng) : bit;
      }
  float *dz = g_new (float, (size_t) n *d), *ws = g_new (float, cl_ntxent_workspace_floats (batch, d));
  ClOptimizer *opt = cl_optimizer_new (CL_OPTIMIZER_ADAM, cl_model_num_params (m), cl_model_num_decay_params (m));
  double best_f[32][2], best_b[32][2], best[5];
  for (int i = 0; i < 32; i++)
    best_f[i][0] = best_f[i][1] = best_b[i][0] = best_b[i][1] = 1e9;
  for (int i = 0; i < 5; i++)
    best[i] = 1e9;
  double loss = 0;
  for (int r = -1; r < opt_reps; r++) /* r = -1 warms up */
    {
      memset (cl_prof_fwd, 0, sizeof cl_prof_fwd);
      memset (cl_prof_bwd, 0, sizeof cl_prof_bwd);
      double tf = 0, tl = 0, tb = 0, to = 0;
      for (int s = 0; s < opt_steps; s++)
        {
          double t0 = cl_prof_now ();
          const float *z = cl_model_forward (m, x, n, TRUE);
          double t1 = cl_prof_now ();
          loss = cl_ntxent (z, batch, d, BENCH_TAU, dz, ws).loss;
          double t2 = cl_prof_now ();
          cl_model_backward (m, dz);
          double t3 = cl_prof_now ();
          cl_optimizer_step (opt, cl_model_params (m), cl_model_grads (m), 1e-3f, 1e-4f);
          double t4 = cl_prof_now ();
          tf += t1 - t0, tl += t2 - t1, tb += t3 - t2, to += t4 - t3;
        }
      if (r < 0)
        continue;
      for (int i = 0; i < 32; i++)
        for (int j = 0; j < 2; j++)
          {
            best_f[i][j] = MIN (best_f[i][j], cl_prof_fwd[i][j] / opt_steps);
            best_b[i][j] = MIN (best_b[i][j], cl_prof_bwd[i][j] / opt_steps);
          }
      const double v[5] = { tf, tl, tb, to, tf + tl + tb + to };
      for (int i = 0; i < 5; i++)
        best[i] = MIN (best[i], v[i] / opt_steps);
    }
  printf ("\n%s %dx%dx%d, batch %d (%d views), %d thread%s: ms/step, min over %d reps of %d steps (loss %.4f)\n", arch,
          planes, size, size, batch, n, threads, threads == 1 ? "" : "s", opt_reps, opt_steps, loss);
  printf ("%-14s %8s %8s %8s %8s %8s %6s\n", "block", "fwd op", "fwd BN", "bwd BN", "bwd op", "sum", "share");
  for (int i = 0; i < m->n_blocks; i++)
    {
      char name[32];
      block_name (m, i, name, sizeof name);
      const double sum = best_f[i][0] + best_f[i][1] + best_b[i][1] + best_b[i][0];
      printf ("%-14s %8.2f %8.2f %8.2f %8.2f %8.2f %5.1f%%\n", name, 1e3 * best_f[i][0], 1e3 * best_f[i][1],
              1e3 * best_b[i][1], 1e3 * best_b[i][0], 1e3 * sum, 100 * sum / best[4]);
    }
  const double layout = best_f[CL_MODEL_MAX_BLOCKS][0] + best_b[CL_MODEL_MAX_BLOCKS][0];
  printf ("%-14s %8.2f %8s %8s %8.2f %8.2f %5.1f%%\n", "input/layout", 1e3 * best_f[CL_MODEL_MAX_BLOCKS][0], "", "",
          1e3 * best_b[CL_MODEL_MAX_BLOCKS][0], 1e3 * layout, 100 * layout / best[4]);
  printf ("forward %.2f, NT-Xent %.2f (%.1f%%), backward %.2f, Adam %.2f; step %.2f ms = %.0f views/s, %.1f GFLOPS\n",
          1e3 * best[0], 1e3 * best[1], 100 * best[1] / best[4], 1e3 * best[2], 1e3 * best[3], 1e3 * best[4],
          n / best[4], 6.0 * cl_model_flops_per_view (m) * n / best[4] * 1e-9);
  const gboolean ok = isfinite (loss);
  cl_optimizer_free (opt);
  g_free (dz);
  g_free (ws);
  g_free (x);
  cl_model_free (m);
  return ok;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "arch", 0, 0, G_OPTION_ARG_STRING, &opt_arch, "Only this model: convn or convn-same (default: both)", "A" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "Only this batch size (default: each model's two)", "B" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "Only this thread count (default: 1 and 2)", "T" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &opt_steps, "Steps per repetition (default 3)", "S" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "Repetitions, minimum reported (default 5)", "R" },
    { "planes", 0, 0, G_OPTION_ARG_INT, &opt_planes,
      "Input planes: the image plane and planes - 1 constant bit planes (default: the model's, 9 or 1)", "N" },
    { "no-fold", 0, 0, G_OPTION_ARG_NONE, &opt_no_fold,
      "Convolve the bit planes instead of folding them into conv1's bias", NULL },
    { "kernels", 0, 0, G_OPTION_ARG_STRING, &opt_kernels,
      "Microkernel set: avx512, avx2, reference or im2col (default: the faster of AVX-512 and AVX2 at start-up)", "K" },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("- per-layer time of a training step");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "bench_layers: %s\n", error->message);
      return 2;
    }
  g_option_context_free (ctx);
  if (opt_steps < 1 || opt_reps < 1 || opt_batch < 0 || opt_threads < 0 || opt_threads > 64 || opt_batch > 4096 ||
      opt_planes < 0 || opt_planes > 64)
    {
      fprintf (stderr,
               "bench_layers: --steps and --reps must be at least 1, --threads 1..64, --batch 1..4096, --planes "
               "1..64\n");
      return 2;
    }
  if (opt_kernels && !cl_conv_set_kernels (opt_kernels))
    {
      fprintf (stderr,
               "bench_layers: --kernels: '%s' is not a kernel set this CPU runs (avx512, avx2, reference, "
               "im2col)\n",
               opt_kernels);
      return 2;
    }
  if (opt_arch && strcmp (opt_arch, "convn") && strcmp (opt_arch, "convn-same"))
    {
      fprintf (stderr, "bench_layers: --arch must be convn or convn-same, not '%s'\n", opt_arch);
      return 2;
    }
  printf ("bench_layers: step = forward + NT-Xent (tau %.2f) + backward + Adam; the engine's thread team, OpenBLAS on "
          "1 thread inside it\n",
          BENCH_TAU);
  {
    g_autofree char *kernels = cl_nn_describe_kernels ();
    printf ("kernels: %s\nbit planes (the input planes after the first): %s\n", kernels,
            opt_no_fold ? "convolved (--no-fold)" : "constant, folded into conv1's bias");
  }
  gboolean ok = TRUE;
  for (int th = 1; th <= 2; th++)
    {
      const int threads = opt_threads ? opt_threads : th;
      for (size_t p = 0; p < G_N_ELEMENTS (profiles); p++)
        {
          if (opt_arch && strcmp (opt_arch, profiles[p].arch))
            continue;
          for (int j = 0; j < 2; j++)
            {
              if (opt_batch && j > 0)
                break;
              const int batch = opt_batch ? opt_batch : profiles[p].batches[j];
              const int planes = opt_planes ? opt_planes : profiles[p].planes;
              ok = profile (profiles[p].arch, planes, profiles[p].size, batch, threads) && ok;
            }
        }
      if (opt_threads)
        break;
    }
  return ok ? 0 : 1;
}
