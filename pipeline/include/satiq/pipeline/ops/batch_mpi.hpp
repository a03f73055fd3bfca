#pragma once
/// `satiq batch` over several processes or machines with MPI (`mpirun -n N satiq batch ...`,
/// `srun satiq batch ...`). Rank 0 hands out image indices one at a time to whichever rank asks
/// next (the caller orders the images largest first, so the long ones start early and the short
/// ones fill the gaps); each rank assesses one image at a time with TBB inside; the records stream
/// back to rank 0, which alone writes results. Rank 0 also assesses images itself in a second
/// thread, so `-n 2` on 2 cores keeps both cores busy.
///
/// Without MPI at build time (SATIQ_WITH_MPI off, or CMake did not find MPI) everything here still
/// compiles and works for one process: init() returns {0, 1, false} and distribute() loops. When
/// such a build is started by mpirun/srun (launched_by_mpi_launcher()), every process would run
/// the whole batch: the caller should say so and let only launcher_rank() == 0 work.
///
/// Launching (OpenMPI 4.1, Debian 12), as checked on a 2-core VM running as root:
///
///     mpirun -n 3 --oversubscribe --allow-run-as-root --bind-to none satiq batch ...
///
///  - root: OpenMPI refuses to start as root without `--allow-run-as-root`, or the environment
///    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (both work here);
///  - `--oversubscribe` is needed as soon as N exceeds the cores (slots) of the machine;
///  - `--bind-to none` matters: for N <= 2 OpenMPI binds each rank to ONE core by default (for
///    N > 2 to a socket), so TBB inside a rank would see a single core. Bind ranks to none, or to
///    enough cores, e.g. one rank per node: `--map-by ppr:1:node --bind-to none`;
///  - nothing else was needed on one machine (shared-memory `vader` transport, including its
///    single-copy mechanism for multi-megabyte records). In containers without ptrace rights add
///    `--mca btl_vader_single_copy_mechanism none`; where shared memory is unusable,
///    `--mca btl self,tcp`; on one machine without ssh, `OMPI_MCA_plm_rsh_agent=` keeps mpirun
///    from looking for ssh.
///  - Slurm: `srun --mpi=pmix satiq batch ...` (or whichever PMI plugin the site uses); give each
///    task its cores with `--cpus-per-task`.
///
/// Threads per rank: see threads_per_rank(); the caller should cap TBB with
/// `tbb::global_control(tbb::global_control::max_allowed_parallelism, threads_per_rank(ctx))`.
#include <cstddef>
#include <functional>
#include <string>

namespace satiq::mpi {

/// True when this library was compiled with SATIQ_WITH_MPI (MPI found by CMake).
bool built_with_mpi();

/// True when the environment says an MPI launcher started this process: OMPI_COMM_WORLD_SIZE,
/// PMI_SIZE or PMIX_RANK is set, or Slurm runs a step of more than one task (SLURM_PROCID set
/// and SLURM_STEP_NUM_TASKS, else SLURM_NTASKS, > 1).
bool launched_by_mpi_launcher();

/// This process's rank / the number of processes according to the launcher's environment
/// (OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/SIZE, PMIX_RANK, SLURM_PROCID/SLURM_STEP_NUM_TASKS);
/// 0 / 1 when not launched. Works without MPI (lets a non-MPI build keep only rank 0 working).
int launcher_rank();
int launcher_size();

struct Context {
    int rank = 0;
    int size = 1;
    bool active = false;  ///< MPI is initialized by init() and size > 1: distribute() uses it
};

/// Starts MPI when built with MPI AND launched by a launcher AND the job has more than one
/// process; otherwise returns {0, 1, false} without touching MPI. Idempotent (later calls return
/// the first result). Call it early in main, from the thread that will call distribute().
Context init();

/// MPI_Finalize when init() started MPI; idempotent; does nothing otherwise.
void finalize();

/// MPI_Abort(MPI_COMM_WORLD, code) when active (kills every rank), else std::exit(code).
[[noreturn]] void abort(int code);

/// Ranks of this job on this node: exact (MPI shared-memory split, computed by init()) when
/// active; otherwise the launcher's environment (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS,
/// SLURM_NTASKS_PER_NODE), 1 when none is set.
int local_rank_count();

/// TBB threads a rank should use so that the ranks of one node share its cores: the CPUs this
/// process may run on (affinity mask), divided by local_rank_count() when active and the mask is
/// the whole node (not when the launcher already bound each rank to its own cores); at least 1.
/// Rank 0's coordinating thread mostly sleeps and is not counted.
int threads_per_rank(const Context& ctx);

/// When active and the launcher bound this node's ranks to fewer CPUs than it has (mpirun's
/// default for N <= 2), a sentence saying so and suggesting `--bind-to none`; empty otherwise.
/// For the CLI to print (rank 0).
std::string cpu_binding_note(const Context& ctx);

/// Distributes items 0..n-1 over the ranks. Rank 0 hands out indices in increasing order, one at a
/// time, to whichever rank asks next (dynamic: a fast rank takes more); rank 0 also processes items
/// itself in a second thread. Every rank calls `process(i)` for the items it gets; the returned
/// string (one JSON record, any size up to 2 GB) is sent to rank 0, where `on_record(i, record)` is
/// called, always from rank 0's calling thread, in arrival order. Returns on every rank once all n
/// items are recorded; non-root ranks never call on_record. An exception thrown by process(i) is
/// caught and the item gets `on_error(i, what)`'s record instead (if on_error throws too, a minimal
/// {"item_index": i, "error": what} record). Every rank must call distribute() with the same n.
///
/// If on_record throws on rank 0, no further items are handed out, the records in flight are
/// received and dropped, every rank returns, and rank 0 rethrows the exception.
///
/// With `!ctx.active` (one process) it loops i = 0..n-1 serially: process(i), on_record(i, ...).
///
/// Only the calling thread makes MPI calls; process() runs on rank 0 in a second thread, so it
/// must be thread-safe with respect to on_record (they run concurrently on rank 0).
void distribute(const Context& ctx, std::size_t n, const std::function<std::string(std::size_t)>& process,
                const std::function<std::string(std::size_t, const std::string& what)>& on_error,
                const std::function<void(std::size_t, const std::string&)>& on_record);

}  // namespace satiq::mpi
