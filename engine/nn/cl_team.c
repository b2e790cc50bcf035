#include "engine/nn/cl_team.h"

#include <pthread.h>
#include <stdint.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "engine/nn/cl_layers_private.h"

/* The thread team.
 * Workers sleep on a condition variable between jobs: OpenMP's and OpenBLAS's spinning workers
 * collapsed when other processes shared the two cores. A job is a number of independent items;
 * the caller and the workers claim them one at a time under the lock until none is left, so a
 * thread that another process keeps off its core simply claims fewer, and the caller never waits
 * for a worker that has not started (only for items already claimed). What an item computes
 * depends only on its index, never on the thread that runs it, so results do not depend on the
 * thread count. Concurrent callers (two models on two threads) are serialised by dispatch_lock. */
static struct
{
  pthread_mutex_t lock, dispatch_lock;
  pthread_cond_t go, done;
  int threads;  /* threads per job, caller included: 1..CL_LAYERS_MAX_THREADS */
  int started;  /* workers created (they are never joined: they live as long as the process) */
  unsigned gen; /* bumped per job, to wake the workers */
  ClTeamItemFn fn;
  void *arg;
  int items, next, finished; /* of the current job; items = 0 between jobs */
} team = { PTHREAD_MUTEX_INITIALIZER,
           PTHREAD_MUTEX_INITIALIZER,
           PTHREAD_COND_INITIALIZER,
           PTHREAD_COND_INITIALIZER,
           1,
           0,
           0,
           NULL,
           NULL,
           0,
           0,
           0 };

/* Claims and runs items of the current job until none is left. Called and returns with the lock held. */
static void
team_work_locked (int thread)
{
  while (team.next < team.items)
    {
      const int item = team.next++;
      ClTeamItemFn fn = team.fn;
      void *arg = team.arg;
      pthread_mutex_unlock (&team.lock);
      fn (arg, item, thread);
      pthread_mutex_lock (&team.lock);
      if (++team.finished == team.items)
        pthread_cond_signal (&team.done);
    }
}

static int compute_nice; /* atomic */

void
cl_layers_set_compute_nice (int nice)
{
  g_atomic_int_set (&compute_nice, CLAMP (nice, 0, 19));
}

void
cl_layers_apply_compute_nice (void)
{
#ifdef __linux__
  const int nice = g_atomic_int_get (&compute_nice);
  /* On Linux the nice value is per thread when set by thread id. Raising it needs no privilege;
   * a failure only means the thread keeps its priority. */
  if (nice > 0)
    (void) setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), nice);
#endif
}

static void *
team_worker (void *data)
{
  const int thread = (int) (intptr_t) data;
  cl_layers_apply_compute_nice ();
  pthread_mutex_lock (&team.lock);
  unsigned seen = team.gen;
  for (;;)
    {
      while (team.gen == seen)
        pthread_cond_wait (&team.go, &team.lock);
      seen = team.gen;
      /* Workers beyond the current thread count stay out (the count may have been lowered). */
      if (thread < team.threads)
        team_work_locked (thread);
    }
  return NULL;
}

void
cl_layers_set_threads (int threads)
{
  threads = CLAMP (threads, 1, CL_LAYERS_MAX_THREADS);
  pthread_mutex_lock (&team.dispatch_lock);
  pthread_mutex_lock (&team.lock);
  while (team.started < threads - 1)
    {
      pthread_t tid;
      if (pthread_create (&tid, NULL, team_worker, (void *) (intptr_t) (team.started + 1)) != 0)
        break; /* fewer threads then; results stay the same */
      pthread_detach (tid);
      team.started++;
    }
  team.threads = MIN (threads, team.started + 1);
  pthread_mutex_unlock (&team.lock);
  pthread_mutex_unlock (&team.dispatch_lock);
}

/* OpenBLAS's own declaration lives in its cblas.h; repeated so a netlib cblas.h also builds. */
extern void openblas_set_num_threads (int num_threads);

void
cl_layers_use_threads (int threads)
{
  openblas_set_num_threads (1);
  cl_layers_set_threads (threads);
}

int
cl_layers_get_threads (void)
{
  pthread_mutex_lock (&team.lock);
  int t = team.threads;
  pthread_mutex_unlock (&team.lock);
  return t;
}

/* Runs fn (arg, item, thread) for item 0..items-1 over the team; thread (0 = the caller) tells
 * which per-thread scratch to use. */
void
cl_team_for (ClTeamItemFn fn, void *arg, int items)
{
  if (items <= 0)
    return;
  if (items == 1 || cl_layers_get_threads () <= 1)
    {
      for (int i = 0; i < items; i++)
        fn (arg, i, 0);
      return;
    }
  pthread_mutex_lock (&team.dispatch_lock);
  pthread_mutex_lock (&team.lock);
  team.fn = fn;
  team.arg = arg;
  team.items = items;
  team.next = 0;
  team.finished = 0;
  team.gen++;
  pthread_cond_broadcast (&team.go);
  team_work_locked (0);
  while (team.finished < team.items)
    pthread_cond_wait (&team.done, &team.lock);
  /* A worker waking only now finds nothing to claim and never touches arg. */
  team.items = team.next = team.finished = 0;
  team.fn = NULL;
  team.arg = NULL;
  pthread_mutex_unlock (&team.lock);
  pthread_mutex_unlock (&team.dispatch_lock);
}

typedef struct
{
  ClTeamFn fn;
  void *arg;
  int parts;
} TeamParts;

static void
team_parts_item (void *arg, int item, int thread)
{
  (void) thread;
  const TeamParts *tp = arg;
  tp->fn (tp->arg, item, tp->parts);
}

void
cl_team_run (ClTeamFn fn, void *arg, int parts)
{
  TeamParts tp = { fn, arg, MAX (parts, 1) };
  cl_team_for (team_parts_item, &tp, tp.parts);
}

int
cl_team_parts (void)
{
  return cl_layers_get_threads ();
}
