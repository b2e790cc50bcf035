/* Training-step benchmark: views/s of one ConvN step (forward + NT-Xent + backward + Adam) at
 * batch 256 and 1000 with 8 bit planes (9 input channels), and of the padded convn-same on 64x64
 * single-plane canvases (the local-features preset's input) at batch 128 and 256, on views
 * prepared once, next to the identical step in PyTorch (tests/bench/torch_step.py, found through
 * TORCH_REFERENCE).
 *
 * "threads T" is the engine's setting for train.threads = T (cl_layers_use_threads: T team
 * threads, OpenBLAS single-threaded inside them) against torch.set_num_threads (T).
 * --blas-threads instead leaves the team at 1 thread and gives OpenBLAS T threads (the engine's
 * setting before the team existed), for comparison.
 *
 * The reference runs as a child in its --serve mode and the timed repetitions alternate between
 * it and us, so both sides sample the same machine load; the ratio is reported both as the ratio
 * of the two medians and as the median of the per-repetition ratios (the steadier one when other
 * processes share the cores). Achieved GFLOPS are compared with a large cblas_sgemm measured with
 * the same thread count, the practical ceiling of an im2col engine.
 *
 * Then our step at 0 and at 20 bit planes, the planes folded into conv1's bias and not (the cost of
 * random bits). The header names the CPU and the kernels that ran (cl_nn_describe_kernels).
 *
 * Usage: bench_step [--batch B] [--threads T] [--reps R] [--seconds S] [--no-torch] [--no-fold] [--no-bits]
 * Exit 0 when it ran (also when the reference could not run: the output says so), 1 when our
 * step produced a non-finite loss or the model could not be built, 2 on bad options. */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/nn/cl_blas_core.h"
#include "engine/nn/cl_gemm.h"
#include "engine/nn/cl_kernels_info.h"
#include "engine/nn/cl_layers.h"
#include "engine/nn/cl_loss.h"
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "engine/base/cl_rng.h"

/* OpenBLAS has no header declaration for this in every packaging. */
extern void openblas_set_num_threads (int num_threads);
/* Weak, so the thread count also reaches the engine's OpenMP loops when it is built with
 * -fopenmp, and the benchmark still links when it is not. */
extern void omp_set_num_threads (int num_threads) __attribute__ ((weak));

/* The two encoders timed, and their inputs. */
typedef struct
{
  const char *arch;
  int planes, bits, size;
  int batches[2];
} BenchModel;

static const BenchModel bench_models[] = {
  { "convn", 1, 8, 28, { 256, 1000 } },
  { "convn-same", 1, 0, 64, { 128, 256 } },
};

#define BENCH_TAU 0.1f
#define BENCH_LR 1e-3f
#define BENCH_WEIGHT_DECAY 1e-4f
#define BENCH_SEED 20211
#define BENCH_PYTHON "/usr/bin/python3"
#define BENCH_MAX_REPS 100
#define SGEMM_N 1024

typedef struct
{
  const BenchModel *model;
  double flops_per_view; /* forward multiply-adds */
  int batch, threads;
  int steps_per_rep, reps_done;
  double ours_s[BENCH_MAX_REPS], torch_s[BENCH_MAX_REPS]; /* seconds per step, per repetition */
  double ours_loss, torch_loss;
  gboolean torch_ran;
  char torch_note[256];
  double sgemm_gflops;
} BenchRow;

static int opt_batch = 0, opt_threads = 0, opt_reps = 5;
static double opt_seconds = 2.0;
static gboolean opt_no_torch = FALSE, opt_blas_threads = FALSE, opt_no_fold = FALSE, opt_no_bits = FALSE;
static char *opt_arch = NULL;

/* For the sgemm ceiling: OpenBLAS itself on `threads` threads. */
static void
set_blas_threads (int threads)
{
  openblas_set_num_threads (threads);
  if (omp_set_num_threads)
    omp_set_num_threads (threads);
}

/* For our step: what the trainer does for train.threads (or the OpenBLAS-only variant). */
static void
set_engine_threads (int threads)
{
  if (opt_blas_threads)
    {
      cl_layers_set_threads (1);
      set_blas_threads (threads);
    }
  else
    cl_layers_use_threads (threads);
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of n values; v is left untouched. */
static double
median (const double *v, int n)
{
  double *s = g_memdup2 (v, sizeof *v * (size_t) n);
  qsort (s, (size_t) n, sizeof *s, compare_double);
  double m = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  g_free (s);
  return m;
}

static double
minimum (const double *v, int n)
{
  double m = v[0];
  for (int i = 1; i < n; i++)
    m = MIN (m, v[i]);
  return m;
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () * 1e-6;
}

static void
print_loadavg (const char *when)
{
  g_autofree char *text = NULL;
  if (g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    printf ("load average %s: %s", when, text);
}

/* Median GFLOPS of a square single-precision product on `threads` threads, the first call untimed
 * (thread start-up, page faults): OpenBLAS's cblas_sgemm (C = A B) and our own microkernels'
 * cl_gemm_nt (C = A B^T) on the engine's team. The ceiling the step is compared with is the better
 * of the two: the best product this CPU runs correctly, whatever OpenBLAS detected. */
static void
sgemm_gflops (int threads, double *blas, double *ours)
{
  const int n = SGEMM_N, reps = 5;
  float *a = g_new (float, (size_t) n *n), *b = g_new (float, (size_t) n *n), *c = g_new0 (float, (size_t) n *n);
  ClRng rng;
  cl_rng_seed (&rng, BENCH_SEED, 99);
  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      a[i] = (float) cl_rng_uniform (&rng) - 0.5f;
      b[i] = (float) cl_rng_uniform (&rng) - 0.5f;
    }
  double t[5], u[5];
  set_blas_threads (threads);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  cl_layers_use_threads (threads);
  cl_gemm_nt (n, n, n, a, b, c);
  /* Alternating, so both see the same load. */
  for (int r = 0; r < reps; r++)
    {
      set_blas_threads (threads);
      double t0 = now_s ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      t[r] = now_s () - t0;
      cl_layers_use_threads (threads);
      t0 = now_s ();
      cl_gemm_nt (n, n, n, a, b, c);
      u[r] = now_s () - t0;
    }
  g_free (a);
  g_free (b);
  g_free (c);
  *blas = 2.0 * n * n * (double) n / median (t, reps) * 1e-9;
  *ours = 2.0 * n * n * (double) n / median (u, reps) * 1e-9;
}

/* 2*batch views: rows i and i+batch are the two views of image i. Each view has its own random
 * image planes (standing in for two different crops) and the image's constant 0/1 bit planes. */
static float *
prepare_views (const BenchModel *bm, int bits, int batch)
{
  const size_t plane = (size_t) bm->size * bm->size, per_view = (size_t) (bm->planes + bits) * plane;
  float *x = g_new (float, 2 * (size_t) batch * per_view);
  ClRng rng;
  cl_rng_seed (&rng, BENCH_SEED, CL_STREAM_AUG);
  for (int i = 0; i < batch; i++)
    {
      uint32_t code = cl_rng_u32 (&rng) & ((1u << bits) - 1);
      for (int v = 0; v < 2; v++)
        {
          float *view = x + ((size_t) i + (size_t) v * batch) * per_view;
          for (size_t p = 0; p < (size_t) bm->planes * plane; p++)
            view[p] = (float) cl_rng_uniform (&rng);
          for (int k = 0; k < bits; k++)
            {
              const float bit = (float) ((code >> k) & 1u);
              for (size_t p = 0; p < plane; p++)
                view[(size_t) (bm->planes + k) * plane + p] = bit;
            }
        }
    }
  return x;
}

/* ------------------------------------------------------------------ our step */

typedef struct
{
  ClModel *model;
  ClOptimizer *opt;
  float *x, *dz, *ws;
  int batch, d;
} OurStep;

/* Forward multiply-adds per view that run: with the bit planes folded into conv1's bias, conv1 convolves
 * the image planes only. */
static double
executed_flops_per_view (const ClModelSpec *spec, int image_planes, gboolean folded)
{
  ClModelSpec run = *spec;
  if (folded)
    run.in_channels = image_planes;
  run.max_views = 1;
  ClModel *m = cl_model_new (&run, 1, NULL);
  const double f = m ? cl_model_flops_per_view (m) : 0.0;
  cl_model_free (m);
  return f;
}

static gboolean
ours_init_bits (OurStep *s, const BenchModel *bm, int bits, gboolean fold, int batch, double *flops_per_view)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = bm->arch;
  spec.in_channels = bm->planes + bits;
  spec.height = spec.width = bm->size;
  spec.max_views = 2 * batch;
  GError *error = NULL;
  memset (s, 0, sizeof *s);
  s->model = cl_model_new (&spec, BENCH_SEED, &error);
  if (!s->model)
    {
      fprintf (stderr, "bench_step: %s\n", error->message);
      g_error_free (error);
      return FALSE;
    }
  if (fold)
    cl_model_set_constant_input_planes (s->model, bm->planes);
  *flops_per_view = executed_flops_per_view (&spec, bm->planes, fold);
  s->batch = batch;
  s->d = cl_model_out_dim (s->model);
  s->opt = cl_optimizer_new (CL_OPTIMIZER_ADAM, cl_model_num_params (s->model), cl_model_num_decay_params (s->model));
  s->x = prepare_views (bm, bits, batch);
  s->dz = g_new (float, 2 * (size_t) batch * s->d);
  s->ws = g_new (float, cl_ntxent_workspace_floats (batch, s->d));
  return TRUE;
}

static gboolean
ours_init (OurStep *s, const BenchModel *bm, int batch, double *flops_per_view)
{
  return ours_init_bits (s, bm, bm->bits, !opt_no_fold, batch, flops_per_view);
}

static void
ours_clear (OurStep *s)
{
  g_free (s->ws);
  g_free (s->dz);
  g_free (s->x);
  cl_optimizer_free (s->opt);
  cl_model_free (s->model);
}

static double
ours_step (OurStep *s)
{
  const float *z = cl_model_forward (s->model, s->x, 2 * s->batch, TRUE);
  ClLossResult r = cl_ntxent (z, s->batch, s->d, BENCH_TAU, s->dz, s->ws);
  cl_model_backward (s->model, s->dz);
  cl_optimizer_step (s->opt, cl_model_params (s->model), cl_model_grads (s->model), BENCH_LR, BENCH_WEIGHT_DECAY);
  return r.loss;
}

/* Seconds per step over `steps` steps. */
static double
ours_run (OurStep *s, int steps, double *loss)
{
  double t0 = now_s ();
  for (int i = 0; i < steps; i++)
    *loss = ours_step (s);
  return (now_s () - t0) / steps;
}

/* ------------------------------------------------------------------ the reference */

typedef struct
{
  GPid pid;
  FILE *to, *from;
} TorchServer;

static const char *
torch_script (void)
{
  const char *env = g_getenv ("TORCH_REFERENCE");
  if (env && *env)
    return env;
  /* Run by hand from the source root. */
  return "tests/bench/torch_step.py";
}

/* Reads one line into buf without its newline; FALSE at EOF. */
static gboolean
read_line (FILE *f, char *buf, size_t size)
{
  if (!fgets (buf, (int) size, f))
    return FALSE;
  buf[strcspn (buf, "\r\n")] = '\0';
  return TRUE;
}

static void
torch_stop (TorchServer *ts)
{
  if (ts->to)
    {
      fputs ("quit\n", ts->to);
      fclose (ts->to);
    }
  if (ts->from)
    fclose (ts->from);
  if (ts->pid > 0)
    {
      int status;
      waitpid (ts->pid, &status, 0);
      g_spawn_close_pid (ts->pid);
    }
  memset (ts, 0, sizeof *ts);
}

/* Starts the reference and waits for its warm-up; on failure writes the reason to note. */
static gboolean
torch_start (TorchServer *ts, const BenchRow *row, char *note, size_t note_size)
{
  const char *script = torch_script ();
  memset (ts, 0, sizeof *ts);
  if (!g_file_test (BENCH_PYTHON, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_strlcpy (note, BENCH_PYTHON " not found", note_size);
      return FALSE;
    }
  if (!g_file_test (script, G_FILE_TEST_IS_REGULAR))
    {
      g_snprintf (note, note_size, "%s not found (set TORCH_REFERENCE)", script);
      return FALSE;
    }
  char batch[16], threads[16], bits[16], planes[16], size[16];
  g_snprintf (batch, sizeof batch, "%d", row->batch);
  g_snprintf (threads, sizeof threads, "%d", row->threads);
  g_snprintf (bits, sizeof bits, "%d", row->model->bits);
  g_snprintf (planes, sizeof planes, "%d", row->model->planes);
  g_snprintf (size, sizeof size, "%d", row->model->size);
  char *argv[] = { (char *) BENCH_PYTHON,
                   (char *) script,
                   (char *) "--serve",
                   (char *) "--batch",
                   batch,
                   (char *) "--threads",
                   threads,
                   (char *) "--warmup",
                   (char *) "3",
                   (char *) "--bits",
                   bits,
                   (char *) "--planes",
                   planes,
                   (char *) "--size",
                   size,
                   (char *) "--arch",
                   (char *) row->model->arch,
                   NULL };
  int in_fd = -1, out_fd = -1;
  GError *error = NULL;
  /* stderr is inherited: a traceback shows up in the benchmark's own log. */
  if (!g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &ts->pid, &in_fd, &out_fd,
                                 NULL, &error))
    {
      g_snprintf (note, note_size, "cannot start %s: %s", BENCH_PYTHON, error->message);
      g_error_free (error);
      return FALSE;
    }
  ts->to = fdopen (in_fd, "w");
  ts->from = fdopen (out_fd, "r");
  if (!ts->to || !ts->from)
    {
      if (!ts->to)
        close (in_fd);
      if (!ts->from)
        close (out_fd);
      g_strlcpy (note, "fdopen failed on the reference's pipes", note_size);
      torch_stop (ts);
      return FALSE;
    }
  char line[512];
  while (read_line (ts->from, line, sizeof line))
    {
      if (strcmp (line, "ready") == 0)
        return TRUE;
      if (g_str_has_prefix (line, "error "))
        {
          g_strlcpy (note, line + 6, note_size);
          torch_stop (ts);
          return FALSE;
        }
    }
  g_strlcpy (note, "the reference exited before its warm-up finished (its stderr is above)", note_size);
  torch_stop (ts);
  return FALSE;
}

/* Seconds per step over `steps` reference steps, or a negative value with the reason in note. */
static double
torch_run (TorchServer *ts, int steps, double *loss, char *note, size_t note_size)
{
  char line[512];
  fprintf (ts->to, "run %d\n", steps);
  fflush (ts->to);
  if (!read_line (ts->from, line, sizeof line))
    {
      g_strlcpy (note, "the reference exited in the middle of the run (its stderr is above)", note_size);
      return -1.0;
    }
  if (g_str_has_prefix (line, "time "))
    {
      char *end;
      double sec = g_ascii_strtod (line + 5, &end);
      const char *l = strstr (end, " loss ");
      if (end != line + 5 && sec > 0.0 && l)
        {
          *loss = g_ascii_strtod (l + 6, NULL);
          return sec;
        }
    }
  g_snprintf (note, note_size, "%s", g_str_has_prefix (line, "error ") ? line + 6 : line);
  return -1.0;
}

/* ------------------------------------------------------------------ one configuration */

static gboolean
bench_row (BenchRow *row)
{
  OurStep s;
  if (!ours_init (&s, row->model, row->batch, &row->flops_per_view))
    return FALSE;
  set_engine_threads (row->threads);
  /* Warm-up also sizes the repetitions: about opt_seconds each, whatever the machine. */
  double loss = 0.0;
  ours_step (&s);
  const double warm = ours_run (&s, 2, &loss);
  row->steps_per_rep = CLAMP ((int) ceil (opt_seconds / MAX (warm, 1e-6)), 1, 200);

  TorchServer ts = { 0 };
  row->torch_ran = FALSE;
  if (opt_no_torch)
    g_strlcpy (row->torch_note, "--no-torch given", sizeof row->torch_note);
  else
    row->torch_ran = torch_start (&ts, row, row->torch_note, sizeof row->torch_note);

  /* Alternating who goes first keeps a slow drift in load from favouring one side. */
  for (int r = 0; r < opt_reps; r++)
    {
      for (int turn = 0; turn < 2; turn++)
        {
          if ((turn == 0) == (r % 2 == 0))
            row->ours_s[r] = ours_run (&s, row->steps_per_rep, &loss);
          else if (row->torch_ran)
            {
              row->torch_s[r] =
                  torch_run (&ts, row->steps_per_rep, &row->torch_loss, row->torch_note, sizeof row->torch_note);
              row->torch_ran = row->torch_s[r] > 0.0;
            }
        }
    }
  row->reps_done = opt_reps;
  row->ours_loss = loss;
  torch_stop (&ts);
  ours_clear (&s);
  return isfinite (loss);
}

/* ------------------------------------------------------------------ what random bits cost */

/* Our convn step at 0 and 20 bit planes (folded into conv1's bias, and not folded: the full
 * convolution over every plane), repetitions alternating between the three so they share the load. */
static void
bench_bits (int batch, int threads)
{
  enum
  {
    CASES = 3
  };
  static const int bits[CASES] = { 0, 20, 20 };
  static const gboolean fold[CASES] = { TRUE, TRUE, FALSE };
  static const char *const names[CASES] = { "0 bits", "20 bits, folded", "20 bits, full conv" };
  OurStep s[CASES];
  double flops, t[CASES][BENCH_MAX_REPS], loss = 0.0;
  set_engine_threads (threads);
  for (int c = 0; c < CASES; c++)
    if (!ours_init_bits (&s[c], &bench_models[0], bits[c], fold[c], batch, &flops))
      return;
  ours_step (&s[0]);
  const double warm = ours_run (&s[0], 2, &loss);
  const int steps = CLAMP ((int) ceil (0.5 * opt_seconds / MAX (warm, 1e-6)), 1, 200);
  for (int r = 0; r < opt_reps; r++)
    for (int c = 0; c < CASES; c++)
      {
        const int cc = (c + r) % CASES;
        ours_run (&s[cc], 1, &loss); /* warm the caches after the other cases */
        t[cc][r] = ours_run (&s[cc], steps, &loss);
      }
  const double base = median (t[0], opt_reps);
  printf ("  convn batch=%d threads=%d, %d steps x %d reps:", batch, threads, steps, opt_reps);
  for (int c = 0; c < CASES; c++)
    {
      double paired[BENCH_MAX_REPS];
      for (int r = 0; r < opt_reps; r++)
        paired[r] = t[c][r] / t[0][r];
      printf (" %s %.2f ms (%.3fx, paired %.3fx)%s", names[c], 1e3 * median (t[c], opt_reps),
              median (t[c], opt_reps) / base, median (paired, opt_reps), c + 1 < CASES ? ";" : "\n");
    }
  fflush (stdout);
  for (int c = 0; c < CASES; c++)
    ours_clear (&s[c]);
}

int
main (int argc, char **argv)
{
  /* As the app does: OpenBLAS on the core the CPU can run when it misdetects (never over a set
   * OPENBLAS_CORETYPE); the header says what happened. */
  cl_blas_core_setup (argv);
  GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &opt_batch, "Only this batch size (default: each model's two)", "B" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "Only this thread count (default: 1 and 2)", "T" },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &opt_arch, "Only this model: convn or convn-same (default: both)", "A" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "Timed repetitions per side, medians reported (default 5)", "R" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_seconds, "Target seconds per repetition (default 2)", "S" },
    { "no-torch", 0, 0, G_OPTION_ARG_NONE, &opt_no_torch, "Do not run the PyTorch reference", NULL },
    { "blas-threads", 0, 0, G_OPTION_ARG_NONE, &opt_blas_threads,
      "Give the threads to OpenBLAS instead of the engine's team", NULL },
    { "no-fold", 0, 0, G_OPTION_ARG_NONE, &opt_no_fold,
      "Convolve the bit planes instead of folding them into conv1's bias", NULL },
    { "no-bits", 0, 0, G_OPTION_ARG_NONE, &opt_no_bits, "Skip the 0-vs-20-bits table", NULL },
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
  if (opt_batch < 0 || opt_batch == 1 || opt_threads < 0 || opt_reps < 1 || opt_reps > BENCH_MAX_REPS ||
      !(opt_seconds > 0.0 && opt_seconds <= 600.0) ||
      (opt_arch && strcmp (opt_arch, "convn") != 0 && strcmp (opt_arch, "convn-same") != 0))
    {
      fprintf (stderr,
               "bench_step: expected --batch >= 2, --threads >= 1, --reps in 1..%d, --seconds in (0, 600], "
               "--arch convn or convn-same\n",
               BENCH_MAX_REPS);
      return 2;
    }
  /* A reference that dies must not take the benchmark with it when we write to its stdin. */
  signal (SIGPIPE, SIG_IGN);

  const int thread_counts[] = { 1, 2 };
  BenchRow rows[G_N_ELEMENTS (bench_models) * 2 * G_N_ELEMENTS (thread_counts)];
  int n_rows = 0;

  printf ("bench_step: step = forward + NT-Xent (tau %.2g, 2B-2 negatives) + backward + Adam (lr %g, "
          "weight decay %g on kernels)\n",
          BENCH_TAU, BENCH_LR, BENCH_WEIGHT_DECAY);
  for (size_t mi = 0; mi < G_N_ELEMENTS (bench_models); mi++)
    printf ("%s: %d image plane(s) + %d bit planes, %dx%d; views prepared once and reused\n", bench_models[mi].arch,
            bench_models[mi].planes, bench_models[mi].bits, bench_models[mi].size, bench_models[mi].size);
  printf ("our threads: %s; OpenMP in the engine: %s\n",
          opt_blas_threads ? "OpenBLAS's (the team on 1 thread)" : "the engine's team (OpenBLAS on 1 thread inside)",
          omp_set_num_threads ? "yes" : "no");
  printf ("PyTorch reference: %s %s\n", BENCH_PYTHON, opt_no_torch ? "(disabled by --no-torch)" : torch_script ());
  printf ("bit planes: %s\n", opt_no_fold ? "convolved like the image (--no-fold)"
                                          : "folded into conv1's per-image bias (cl_model_set_constant_input_planes)");
  {
    g_autofree char *kernels = cl_nn_describe_kernels ();
    printf ("kernels: %s\n", kernels);
  }
  print_loadavg ("at start");
  fflush (stdout);

  for (size_t ti = 0; ti < G_N_ELEMENTS (thread_counts) && !(opt_threads && ti > 0); ti++)
    {
      const int threads = opt_threads ? opt_threads : thread_counts[ti];
      double blas_gf, ours_gf;
      sgemm_gflops (threads, &blas_gf, &ours_gf);
      const double peak = MAX (blas_gf, ours_gf);
      printf ("threads %d: %dx%dx%d product: OpenBLAS cblas_sgemm %.1f GFLOPS, our cl_gemm_nt %.1f GFLOPS "
              "(ceiling: the better)\n",
              threads, SGEMM_N, SGEMM_N, SGEMM_N, blas_gf, ours_gf);
      fflush (stdout);
      for (size_t mi = 0; mi < G_N_ELEMENTS (bench_models); mi++)
        {
          const BenchModel *bm = &bench_models[mi];
          if (opt_arch && strcmp (opt_arch, bm->arch) != 0)
            continue;
          for (size_t bi = 0; bi < G_N_ELEMENTS (bm->batches) && !(opt_batch && bi > 0); bi++)
            {
              BenchRow *row = &rows[n_rows++];
              memset (row, 0, sizeof *row);
              row->model = bm;
              row->batch = opt_batch ? opt_batch : bm->batches[bi];
              row->threads = threads;
              row->sgemm_gflops = peak;
              if (!bench_row (row))
                {
                  fprintf (stderr,
                           "bench_step: %s batch %d threads %d: our loss is not finite (%g) or the model failed\n",
                           bm->arch, row->batch, row->threads, row->ours_loss);
                  return 1;
                }
              printf ("  %s batch=%d threads=%d, %d steps x %d reps per side: ours ms/step median %.2f min %.2f "
                      "(loss %.4f)",
                      bm->arch, row->batch, row->threads, row->steps_per_rep, row->reps_done,
                      1e3 * median (row->ours_s, opt_reps), 1e3 * minimum (row->ours_s, opt_reps), row->ours_loss);
              if (row->torch_ran)
                printf ("; torch median %.2f min %.2f (loss %.4f)\n", 1e3 * median (row->torch_s, opt_reps),
                        1e3 * minimum (row->torch_s, opt_reps), row->torch_loss);
              else
                printf ("\n  PyTorch reference NOT run for %s batch %d threads %d: %s\n", bm->arch, row->batch,
                        row->threads, row->torch_note);
              fflush (stdout);
            }
        }
    }
  if (!opt_no_bits && (!opt_arch || strcmp (opt_arch, "convn") == 0))
    {
      printf ("\nwhat random bits cost (our step only; ratio to 0 bits):\n");
      for (size_t ti = 0; ti < G_N_ELEMENTS (thread_counts) && !(opt_threads && ti > 0); ti++)
        for (size_t bi = 0; bi < 2 && !(opt_batch && bi > 0); bi++)
          bench_bits (opt_batch ? opt_batch : bench_models[0].batches[bi],
                      opt_threads ? opt_threads : thread_counts[ti]);
    }
  print_loadavg ("at end");

  /* Convention: backward costs about twice the forward (input and weight gradients), so a step is
   * ~3x the forward multiply-adds at 2 flops each. The first conv needs no input gradient, so this
   * slightly overstates the work; BN, ReLU, the loss and Adam are not counted. Folded bit planes
   * are not counted either (they are not convolved). */
  printf ("\nGFLOPS below = views/s x 3 (fwd+bwd) x 2 (flops/MAC) x forward multiply-adds per view:");
  for (size_t mi = 0; mi < G_N_ELEMENTS (bench_models); mi++)
    for (int i = 0; i < n_rows; i++)
      if (rows[i].model == &bench_models[mi])
        {
          printf (" %s %.3f M;", bench_models[mi].arch, rows[i].flops_per_view * 1e-6);
          break;
        }
  printf ("\n%-11s %6s %8s %13s %14s %11s %9s %9s %10s %8s\n", "model", "batch", "threads", "ours views/s",
          "torch views/s", "ours/torch", "(paired)", "GFLOPS", "best GF", "of best");
  gboolean any_missing = FALSE;
  for (int i = 0; i < n_rows; i++)
    {
      const BenchRow *row = &rows[i];
      const double ours_vps = 2.0 * row->batch / median (row->ours_s, row->reps_done);
      const double gflops = ours_vps * 3.0 * 2.0 * row->flops_per_view * 1e-9;
      char torch_col[32] = "not run", ratio_col[32] = "n/a", paired_col[32] = "n/a";
      if (row->torch_ran)
        {
          const double torch_vps = 2.0 * row->batch / median (row->torch_s, row->reps_done);
          double paired[BENCH_MAX_REPS];
          for (int r = 0; r < row->reps_done; r++)
            paired[r] = row->torch_s[r] / row->ours_s[r];
          g_snprintf (torch_col, sizeof torch_col, "%.1f", torch_vps);
          g_snprintf (ratio_col, sizeof ratio_col, "%.2fx", ours_vps / torch_vps);
          g_snprintf (paired_col, sizeof paired_col, "%.2fx", median (paired, row->reps_done));
        }
      else
        any_missing = TRUE;
      printf ("%-11s %6d %8d %13.1f %14s %11s %9s %9.2f %10.1f %7.1f%%\n", row->model->arch, row->batch, row->threads,
              ours_vps, torch_col, ratio_col, paired_col, gflops, row->sgemm_gflops,
              100.0 * gflops / row->sgemm_gflops);
    }
  printf ("views/s: median repetition of each side; ours/torch: ratio of those medians; (paired): median over the\n"
          "alternating repetitions of torch time / our time. Other processes on the cores distort all of it,\n"
          "PyTorch's multi-threaded OpenMP runs most (its threads spin-wait for a busy core).\n");
  if (any_missing)
    printf ("NOTE: the PyTorch reference did not run for every row (reasons above); those ratios are missing, "
            "not measured.\n");
  g_free (opt_arch);
  return 0;
}
