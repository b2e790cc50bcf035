/* Training-step benchmark: views/s of one ConvN step (forward + NT-Xent + backward + Adam) at
 * batch 256 and 1000 with 8 bit planes (9 input channels), on views prepared once, next to the
 * identical step in PyTorch (tests/bench/torch_step.py, found through TORCH_REFERENCE) timed in
 * the same run, so both see the same machine load. Also reports achieved GFLOPS against a large
 * cblas_sgemm measured with the same thread count, the practical ceiling for an im2col engine.
 *
 * Usage: bench_step [--batch B] [--threads T] [--reps R] [--seconds S] [--no-torch]
 * Exit 0 when it ran (also when the reference could not run: the output says so), 1 when our
 * step produced a non-finite loss or the model could not be built, 2 on bad options. */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cl_loss.h"
#include "engine/cl_model.h"
#include "engine/cl_rng.h"

/* OpenBLAS has no header declaration for this in every packaging. */
extern void openblas_set_num_threads (int num_threads);
/* Weak, so the thread count also reaches the engine's OpenMP loops when it is built with
 * -fopenmp, and the benchmark still links when it is not. */
extern void omp_set_num_threads (int num_threads) __attribute__ ((weak));

#define BENCH_BITS 8
#define BENCH_SIZE 28
#define BENCH_TAU 0.1f
#define BENCH_LR 1e-3f
#define BENCH_WEIGHT_DECAY 1e-4f
#define BENCH_SEED 20211
#define BENCH_PYTHON "/usr/bin/python3"
#define SGEMM_N 1024

typedef struct {
  int batch, threads;
  int steps_per_rep;
  double ours_ms, ours_min_ms, ours_loss;
  gboolean torch_ran;
  double torch_ms, torch_min_ms;
  char torch_note[256];
  double sgemm_gflops;
} BenchRow;

static int opt_batch = 0, opt_threads = 0, opt_reps = 5;
static double opt_seconds = 2.0;
static gboolean opt_no_torch = FALSE;

static void
set_threads (int threads)
{
  openblas_set_num_threads (threads);
  if (omp_set_num_threads)
    omp_set_num_threads (threads);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () * 1e-6;
}

/* Median GFLOPS of a square sgemm; the first call is untimed (thread start-up, page faults). */
static double
sgemm_gflops (int threads)
{
  const int n = SGEMM_N, reps = 5;
  float *a = g_new (float, (size_t) n * n), *b = g_new (float, (size_t) n * n), *c = g_new0 (float, (size_t) n * n);
  ClRng rng;
  cl_rng_seed (&rng, BENCH_SEED, 99);
  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      a[i] = (float) cl_rng_uniform (&rng) - 0.5f;
      b[i] = (float) cl_rng_uniform (&rng) - 0.5f;
    }
  set_threads (threads);
  double t[5];
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  for (int r = 0; r < reps; r++)
    {
      double t0 = now_s ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      t[r] = now_s () - t0;
    }
  g_free (a);
  g_free (b);
  g_free (c);
  return 2.0 * n * n * (double) n / median (t, reps) * 1e-9;
}

/* 2*batch views: rows i and i+batch are the two views of image i. Each view has its own random
 * image plane (standing in for two different crops) and the image's constant 0/1 bit planes. */
static float *
prepare_views (int batch)
{
  const size_t plane = BENCH_SIZE * BENCH_SIZE, per_view = (1 + BENCH_BITS) * plane;
  float *x = g_new (float, 2 * (size_t) batch * per_view);
  ClRng rng;
  cl_rng_seed (&rng, BENCH_SEED, CL_STREAM_AUG);
  for (int i = 0; i < batch; i++)
    {
      uint32_t code = cl_rng_u32 (&rng) & ((1u << BENCH_BITS) - 1);
      for (int v = 0; v < 2; v++)
        {
          float *view = x + ((size_t) i + (size_t) v * batch) * per_view;
          for (size_t p = 0; p < plane; p++)
            view[p] = (float) cl_rng_uniform (&rng);
          for (int k = 0; k < BENCH_BITS; k++)
            {
              const float bit = (float) ((code >> k) & 1u);
              for (size_t p = 0; p < plane; p++)
                view[(size_t) (1 + k) * plane + p] = bit;
            }
        }
    }
  return x;
}

typedef struct {
  ClModel *model;
  ClOptimizer *opt;
  const float *x;
  float *dz, *ws;
  int batch, d;
} StepCtx;

static double
train_step (StepCtx *s)
{
  const float *z = cl_model_forward (s->model, s->x, 2 * s->batch, TRUE);
  ClLossResult r = cl_ntxent (z, s->batch, s->d, BENCH_TAU, s->dz, s->ws);
  cl_model_backward (s->model, s->dz);
  cl_optimizer_step (s->opt, cl_model_params (s->model), cl_model_grads (s->model), BENCH_LR, BENCH_WEIGHT_DECAY);
  return r.loss;
}

/* Times our step; fills row->ours_* and row->steps_per_rep (reused for the reference). */
static gboolean
bench_ours (BenchRow *row, double *flops_per_view)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = 1 + BENCH_BITS;
  spec.height = spec.width = BENCH_SIZE;
  spec.max_views = 2 * row->batch;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, BENCH_SEED, &error);
  if (!model)
    {
      fprintf (stderr, "bench_step: %s\n", error->message);
      g_error_free (error);
      return FALSE;
    }
  *flops_per_view = cl_model_flops_per_view (model);
  StepCtx s = {
    .model = model,
    .opt = cl_optimizer_new (CL_OPT_ADAM, cl_model_num_params (model), cl_model_num_decay_params (model)),
    .batch = row->batch,
    .d = cl_model_out_dim (model),
  };
  float *x = prepare_views (row->batch);
  s.x = x;
  s.dz = g_new (float, 2 * (size_t) row->batch * s.d);
  s.ws = g_new (float, cl_ntxent_workspace_floats (row->batch, s.d));

  set_threads (row->threads);
  /* Warm-up also sizes the repetitions: about opt_seconds each, whatever the machine. */
  double loss = train_step (&s);
  double t0 = now_s ();
  for (int i = 0; i < 2; i++)
    loss = train_step (&s);
  const double warm_step = (now_s () - t0) / 2.0;
  row->steps_per_rep = CLAMP ((int) ceil (opt_seconds / MAX (warm_step, 1e-6)), 1, 200);

  double *t = g_new (double, opt_reps);
  for (int r = 0; r < opt_reps; r++)
    {
      t0 = now_s ();
      for (int i = 0; i < row->steps_per_rep; i++)
        loss = train_step (&s);
      t[r] = (now_s () - t0) / row->steps_per_rep;
    }
  row->ours_ms = 1e3 * median (t, opt_reps);
  row->ours_min_ms = 1e3 * t[0]; /* median() sorted t */
  row->ours_loss = loss;

  g_free (t);
  g_free (s.ws);
  g_free (s.dz);
  g_free (x);
  cl_optimizer_free (s.opt);
  cl_model_free (model);
  return isfinite (loss);
}

static const char *
torch_script (void)
{
  const char *env = g_getenv ("TORCH_REFERENCE");
  if (env && *env)
    return env;
  /* Run by hand from the source root. */
  return "tests/bench/torch_step.py";
}

/* Last non-empty line of s, for a one-line reason from a Python traceback. */
static void
last_line (const char *s, char *out, size_t size)
{
  g_auto (GStrv) lines = g_strsplit (s ? s : "", "\n", -1);
  const char *last = "";
  for (int i = 0; lines[i]; i++)
    if (*g_strstrip (lines[i]))
      last = lines[i];
  g_strlcpy (out, *last ? last : "(no output)", size);
}

/* " key=value" in line; the leading space keeps "ms_per_step=" from matching "min_ms_per_step=". */
static gboolean
parse_field (const char *line, const char *key, double *value)
{
  g_autofree char *needle = g_strdup_printf (" %s=", key);
  const char *p = strstr (line, needle);
  if (!p)
    return FALSE;
  p += strlen (needle);
  char *end;
  *value = g_ascii_strtod (p, &end);
  return end != p && isfinite (*value) && *value > 0.0;
}

static void
bench_torch (BenchRow *row)
{
  const char *script = torch_script ();
  row->torch_ran = FALSE;
  if (opt_no_torch)
    {
      g_strlcpy (row->torch_note, "--no-torch given", sizeof row->torch_note);
      return;
    }
  if (!g_file_test (BENCH_PYTHON, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_strlcpy (row->torch_note, BENCH_PYTHON " not found", sizeof row->torch_note);
      return;
    }
  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_snprintf (row->torch_note, sizeof row->torch_note, "%s not found (set TORCH_REFERENCE)", script);
      return;
    }
  char batch[16], threads[16], steps[16], reps[16];
  g_snprintf (batch, sizeof batch, "%d", row->batch);
  g_snprintf (threads, sizeof threads, "%d", row->threads);
  g_snprintf (steps, sizeof steps, "%d", row->steps_per_rep);
  g_snprintf (reps, sizeof reps, "%d", opt_reps);
  char *argv[] = { (char *) BENCH_PYTHON, (char *) script, (char *) "--batch", batch, (char *) "--threads", threads,
                   (char *) "--steps", steps, (char *) "--warmup", (char *) "3", (char *) "--reps", reps,
                   (char *) "--bits", (char *) G_STRINGIFY (BENCH_BITS), NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  GError *error = NULL;
  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error))
    {
      g_snprintf (row->torch_note, sizeof row->torch_note, "cannot start %s: %s", BENCH_PYTHON, error->message);
      g_error_free (error);
      return;
    }
  if (!g_spawn_check_wait_status (status, &error))
    {
      char reason[200];
      last_line (err, reason, sizeof reason);
      g_snprintf (row->torch_note, sizeof row->torch_note, "reference failed (%s): %s", error->message, reason);
      g_error_free (error);
      return;
    }
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      double vps;
      if (g_str_has_prefix (lines[i], "torch ") && parse_field (lines[i], "ms_per_step", &row->torch_ms)
          && parse_field (lines[i], "min_ms_per_step", &row->torch_min_ms) && parse_field (lines[i], "views_per_s", &vps))
        {
          row->torch_ran = TRUE;
          g_strlcpy (row->torch_note, lines[i], sizeof row->torch_note);
          return;
        }
    }
  char reason[200];
  last_line (out, reason, sizeof reason);
  g_snprintf (row->torch_note, sizeof row->torch_note, "no 'torch ... ms_per_step= min_ms_per_step=' line: %s",
              reason);
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "Only this batch size (default: 256 and 1000)", "B" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "Only this thread count (default: 1 and 2)", "T" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "Timed repetitions, median reported (default 5)", "R" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_seconds, "Target seconds per repetition (default 2)", "S" },
    { "no-torch", 0, 0, G_OPTION_ARG_NONE, &opt_no_torch, "Do not run the PyTorch reference", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *ctx = g_option_context_new ("- ConvN training-step benchmark against PyTorch");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "bench_step: %s\n", error->message);
      return 2;
    }
  g_option_context_free (ctx);
  if (opt_batch < 0 || opt_batch == 1 || opt_threads < 0 || opt_reps < 1 || opt_reps > 100 || !(opt_seconds > 0.0))
    {
      fprintf (stderr, "bench_step: expected --batch >= 2, --threads >= 1, --reps in 1..100, --seconds > 0\n");
      return 2;
    }

  const int batches[] = { 256, 1000 }, thread_counts[] = { 1, 2 };
  BenchRow rows[4];
  int n_rows = 0;
  double flops_per_view = 0.0;

  printf ("bench_step: ConvN step = forward + NT-Xent (tau %.2g, 2B-2 negatives) + backward + Adam (lr %g, "
          "weight decay %g on kernels)\n",
          BENCH_TAU, BENCH_LR, BENCH_WEIGHT_DECAY);
  printf ("input %d channels (1 image plane + %d bit planes) x %dx%d, views prepared once and reused; "
          "OpenMP in the engine: %s\n",
          1 + BENCH_BITS, BENCH_BITS, BENCH_SIZE, BENCH_SIZE, omp_set_num_threads ? "yes" : "no");
  printf ("PyTorch reference: %s %s\n", BENCH_PYTHON, opt_no_torch ? "(disabled by --no-torch)" : torch_script ());
  fflush (stdout);

  for (size_t ti = 0; ti < G_N_ELEMENTS (thread_counts); ti++)
    {
      const int threads = opt_threads ? opt_threads : thread_counts[ti];
      if (opt_threads && ti > 0)
        break;
      const double peak = sgemm_gflops (threads);
      printf ("threads %d: cblas_sgemm %dx%dx%d: %.1f GFLOPS\n", threads, SGEMM_N, SGEMM_N, SGEMM_N, peak);
      fflush (stdout);
      for (size_t bi = 0; bi < G_N_ELEMENTS (batches); bi++)
        {
          if (opt_batch && bi > 0)
            break;
          BenchRow *row = &rows[n_rows++];
          memset (row, 0, sizeof *row);
          row->batch = opt_batch ? opt_batch : batches[bi];
          row->threads = threads;
          row->sgemm_gflops = peak;
          if (!bench_ours (row, &flops_per_view))
            {
              fprintf (stderr, "bench_step: batch %d threads %d: our loss is not finite (%g) or the model failed\n",
                       row->batch, row->threads, row->ours_loss);
              return 1;
            }
          printf ("  ours  batch=%d threads=%d ms_per_step=%.2f (min %.2f, %d steps x %d reps) loss=%.4f\n",
                  row->batch, row->threads, row->ours_ms, row->ours_min_ms, row->steps_per_rep, opt_reps,
                  row->ours_loss);
          fflush (stdout);
          bench_torch (row);
          if (row->torch_ran)
            printf ("  %s\n", row->torch_note);
          else
            printf ("  PyTorch reference NOT run for batch %d threads %d: %s\n", row->batch, row->threads,
                    row->torch_note);
          fflush (stdout);
        }
    }

  /* Convention: backward costs about twice the forward (input and weight gradients), so a step is
   * ~3x the forward multiply-adds at 2 flops each. The first conv needs no input gradient, so this
   * slightly overstates the work; BN, ReLU, the loss and Adam are not counted. */
  const double flops_per_step_view = 3.0 * 2.0 * flops_per_view;
  printf ("\nforward multiply-adds per view: %.3f M; GFLOPS below = views/s x 3 (fwd+bwd) x 2 (flops/MAC) x that\n",
          flops_per_view * 1e-6);
  printf ("%6s %8s %13s %14s %11s %11s %9s %10s %8s\n", "batch", "threads", "ours views/s", "torch views/s",
          "ours/torch", "(best/best)", "GFLOPS", "sgemm GF", "of sgemm");
  gboolean any_missing = FALSE;
  for (int i = 0; i < n_rows; i++)
    {
      const BenchRow *row = &rows[i];
      const double ours_vps = 2.0 * row->batch / (row->ours_ms * 1e-3);
      const double gflops = ours_vps * flops_per_step_view * 1e-9;
      char torch_col[32] = "not run", ratio_col[32] = "n/a", best_col[32] = "n/a";
      if (row->torch_ran)
        {
          const double torch_vps = 2.0 * row->batch / (row->torch_ms * 1e-3);
          g_snprintf (torch_col, sizeof torch_col, "%.1f", torch_vps);
          g_snprintf (ratio_col, sizeof ratio_col, "%.2fx", ours_vps / torch_vps);
          g_snprintf (best_col, sizeof best_col, "%.2fx", row->torch_min_ms / row->ours_min_ms);
        }
      else
        any_missing = TRUE;
      printf ("%6d %8d %13.1f %14s %11s %11s %9.2f %10.1f %7.1f%%\n", row->batch, row->threads, ours_vps, torch_col,
              ratio_col, best_col, gflops, row->sgemm_gflops, 100.0 * gflops / row->sgemm_gflops);
    }
  printf ("views/s and ours/torch use the median repetition of each side; (best/best) is the ratio of the fastest\n"
          "repetitions, which is steadier when other processes share the cores.\n");
  if (any_missing)
    printf ("NOTE: the PyTorch reference did not run for every row (reasons above); those ratios are missing, "
            "not measured.\n");
  return 0;
}
