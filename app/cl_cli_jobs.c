/* --jobs N: see cl_cli_jobs.h. Each cell is a child process of this program, so the cells share
 * nothing but the sweep folder, whose per-cell locks (cl_cli.c) already let any number of
 * --cell jobs run side by side. */
#include "app/cl_cli_jobs.h"

#include <sys/wait.h>

#include "app/cl_cli.h"

typedef struct
{
  char *exe;
  const char *out;
  const int *threads;
  int n;
  int next; /* the next cell to start (atomic) */
  int *codes;
  GMutex lock; /* guards error */
  GError *error;
} Pool;

static gpointer
worker (gpointer data)
{
  Pool *pool = data;
  for (;;)
    {
      const int p = g_atomic_int_add (&pool->next, 1);
      if (p >= pool->n)
        break;
      char index[16], threads[48];
      g_snprintf (index, sizeof index, "%d", p);
      g_snprintf (threads, sizeof threads, "train.threads=%d", pool->threads[p]);
      const char *argv[] = {
        pool->exe, "--headless", "--out", pool->out, "--cell", index, pool->threads[p] > 0 ? "--set" : NULL,
        threads,   NULL
      };
      int status = 0;
      GError *error = NULL;
      if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error))
        {
          pool->codes[p] = CL_EXIT_INTERNAL;
          g_atomic_int_set (&pool->next, pool->n); /* start nothing more */
          g_mutex_lock (&pool->lock);
          if (!pool->error)
            g_propagate_prefixed_error (&pool->error, error, "--jobs: cell %d: ", p);
          else
            g_error_free (error);
          g_mutex_unlock (&pool->lock);
          break;
        }
      pool->codes[p] = WIFEXITED (status) ? WEXITSTATUS (status) : CL_EXIT_INTERNAL;
    }
  return NULL;
}

gboolean
cl_cli_run_cells (const char *out, int n, int jobs, const int *threads, int *codes, GError **error)
{
  Pool pool = { .out = out, .threads = threads, .n = n, .codes = codes };
  pool.exe = g_file_read_link ("/proc/self/exe", error);
  if (!pool.exe)
    {
      g_prefix_error (error, "--jobs: this program's path: ");
      return FALSE;
    }
  for (int p = 0; p < n; p++)
    codes[p] = CL_EXIT_INTERNAL; /* until its process has ended */
  g_mutex_init (&pool.lock);
  GThread *workers[64];
  const int k = CLAMP (MIN (jobs, n), 1, (int) G_N_ELEMENTS (workers));
  for (int j = 0; j < k; j++)
    workers[j] = g_thread_new ("sweep-job", worker, &pool);
  for (int j = 0; j < k; j++)
    g_thread_join (workers[j]);
  g_mutex_clear (&pool.lock);
  g_free (pool.exe);
  if (pool.error)
    {
      g_propagate_error (error, pool.error);
      return FALSE;
    }
  return TRUE;
}
