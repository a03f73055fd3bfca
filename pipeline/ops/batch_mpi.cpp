#include "satiq/pipeline/ops/batch_mpi.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#if defined(SATIQ_WITH_MPI) && SATIQ_WITH_MPI
#define SATIQ_MPI_ENABLED 1
// C bindings only (the C++ bindings are deprecated and pull in a separate library).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>
#else
#define SATIQ_MPI_ENABLED 0
#endif

namespace satiq::mpi {

namespace {

// ---- environment -----------------------------------------------------------------------------

const char* env_value(const char* name) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? v : nullptr;
}

// The leading integer of an environment variable ("2(x3)" gives 2); nullopt when unset or not a
// number.
std::optional<long> env_long(const char* name) {
    const char* v = env_value(name);
    if (v == nullptr) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long x = std::strtol(v, &end, 10);
    if (end == v || errno != 0) return std::nullopt;
    return x;
}

std::optional<long> slurm_step_tasks() {
    if (env_value("SLURM_PROCID") == nullptr) return std::nullopt;
    if (auto n = env_long("SLURM_STEP_NUM_TASKS")) return n;
    return env_long("SLURM_NTASKS");
}

// The job size the launcher announces; nullopt when it does not say (PMIx sets only PMIX_RANK).
std::optional<long> env_size() {
    if (auto n = env_long("OMPI_COMM_WORLD_SIZE")) return n;
    if (auto n = env_long("PMI_SIZE")) return n;
    if (auto n = slurm_step_tasks()) return n;
    return std::nullopt;
}

int cpus_online() {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
}

// CPUs this process may run on (the launcher's binding), falling back to the online CPUs.
int cpus_allowed() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    return cpus_online();
}

// ---- state -----------------------------------------------------------------------------------

struct State {
    std::mutex mutex;
    bool init_called = false;
    bool started = false;  // init() called MPI_Init_thread (so finalize() must finalize)
    bool finalized = false;
    Context ctx;
    int local_ranks = 0;     // ranks on this node (MPI shared-memory split), 0 when unknown
    int sharing_ranks = 0;   // ranks on this node whose CPU set intersects ours (incl. this one)
    int node_cpus_used = 0;  // CPUs in the union of this node's ranks' CPU sets
};

State& state() {
    static State s;
    return s;
}

constexpr int kTagRequest = 1;  // worker -> root, empty: "give me an item" (first request only)
constexpr int kTagAssign = 2;   // root -> worker, one uint64: the item index
constexpr int kTagRecord = 3;   // worker -> root, MPI_CHAR: 8-byte index then the record; also
                                // asks for the next item
constexpr int kTagDone = 4;     // root -> worker, empty: no more items

std::string fallback_record(std::size_t i, const std::string& what) {
    return nlohmann::json{{"item_index", i}, {"error", what}}.dump(-1, ' ', false,
                                                                   nlohmann::json::error_handler_t::replace);
}

// process(i), or on_error's record when it throws (a minimal record when on_error throws too).
std::string safe_process(std::size_t i, const std::function<std::string(std::size_t)>& process,
                         const std::function<std::string(std::size_t, const std::string&)>& on_error) {
    std::string what;
    try {
        return process(i);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
        what = "unknown exception";
    }
    try {
        if (on_error) return on_error(i, what);
    } catch (const std::exception& e) {
        what += std::string("; on_error failed: ") + e.what();
    } catch (...) {
        what += "; on_error failed";
    }
    return fallback_record(i, what);
}

#if SATIQ_MPI_ENABLED

// Called by init() on every rank: how many ranks share this node, and how their CPU sets overlap.
void measure_node(State& s) {
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, s.ctx.rank, MPI_INFO_NULL, &node);
    int local = 1;
    MPI_Comm_size(node, &local);
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (::sched_getaffinity(0, sizeof(mine), &mine) != 0) {
        for (int c = 0; c < cpus_online() && c < CPU_SETSIZE; ++c)
            CPU_SET(c, &mine);
    }
    std::vector<cpu_set_t> all(static_cast<std::size_t>(local));
    MPI_Allgather(&mine, static_cast<int>(sizeof(cpu_set_t)), MPI_BYTE, all.data(), static_cast<int>(sizeof(cpu_set_t)),
                  MPI_BYTE, node);
    MPI_Comm_free(&node);
    int sharing = 0;
    cpu_set_t all_union;
    CPU_ZERO(&all_union);
    for (cpu_set_t& other : all) {
        cpu_set_t both;
        CPU_AND(&both, &mine, &other);
        if (CPU_COUNT(&both) > 0) ++sharing;
        CPU_OR(&all_union, &all_union, &other);
    }
    s.local_ranks = local;
    s.sharing_ranks = std::max(1, sharing);
    s.node_cpus_used = CPU_COUNT(&all_union);
}

// A record that fits one MPI message (an int count of chars, after the 8-byte index): process(i)
// or its error record, else an error record saying it was too large.
std::string record_for_message(std::size_t i, const std::function<std::string(std::size_t)>& process,
                               const std::function<std::string(std::size_t, const std::string&)>& on_error) {
    constexpr std::size_t kIndexBytes = sizeof(std::uint64_t);
    std::string record = safe_process(i, process, on_error);
    if (record.size() > static_cast<std::size_t>(INT_MAX) - kIndexBytes) {
        record = safe_process(
            i,
            [&](std::size_t) -> std::string {
                throw std::length_error("record of " + std::to_string(record.size()) +
                                        " bytes exceeds the 2 GB MPI message limit");
            },
            on_error);
        if (record.size() > static_cast<std::size_t>(INT_MAX) - kIndexBytes) {
            record = fallback_record(i, "record exceeds the 2 GB MPI message limit");
        }
    }
    return record;
}

// A rank other than 0: asks rank 0 for items, processes each and sends its record back (which
// asks for the next), until rank 0 says kTagDone.
void work_for_rank0(MPI_Comm comm, const std::function<std::string(std::size_t)>& process,
                    const std::function<std::string(std::size_t, const std::string&)>& on_error) {
    MPI_Send(nullptr, 0, MPI_UINT64_T, 0, kTagRequest, comm);
    std::vector<char> message;
    for (;;) {
        std::uint64_t index = 0;
        MPI_Status status;
        MPI_Recv(&index, 1, MPI_UINT64_T, 0, MPI_ANY_TAG, comm, &status);
        if (status.MPI_TAG != kTagAssign) break;  // kTagDone
        const auto i = static_cast<std::size_t>(index);
        const std::string record = record_for_message(i, process, on_error);
        message.resize(sizeof(index) + record.size());
        std::memcpy(message.data(), &index, sizeof(index));
        std::memcpy(message.data() + sizeof(index), record.data(), record.size());
        MPI_Send(message.data(), static_cast<int>(message.size()), MPI_CHAR, 0, kTagRecord, comm);
    }
}

// Rank 0's shared state: the item counter, and the records of its local worker thread.
struct Rank0 {
    std::size_t n = 0;
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t next = 0;
    bool stop = false;  // hand out nothing more (on_record threw)
    std::deque<std::pair<std::size_t, std::string>> local_records;
    bool local_finished = false;
    std::exception_ptr local_error;

    std::optional<std::size_t> take() {
        std::lock_guard lock(mutex);
        if (stop || next >= n) return std::nullopt;
        return next++;
    }
    void halt() {
        std::lock_guard lock(mutex);
        stop = true;
    }
};

// Rank 0's second thread: processes items from the same counter, so that rank 0's core does not
// idle.
void rank0_local_worker(Rank0& r0, const std::function<std::string(std::size_t)>& process,
                        const std::function<std::string(std::size_t, const std::string&)>& on_error) {
    try {
        while (auto i = r0.take()) {
            std::string record = safe_process(*i, process, on_error);
            std::lock_guard lock(r0.mutex);
            r0.local_records.emplace_back(*i, std::move(record));
            r0.changed.notify_one();
        }
    } catch (...) {  // allocation failures only: safe_process catches everything else
        std::lock_guard lock(r0.mutex);
        r0.local_error = std::current_exception();
        r0.stop = true;
    }
    std::lock_guard lock(r0.mutex);
    r0.local_finished = true;
    r0.changed.notify_one();
}

// Every message waiting on rank 0: each record is delivered, and its sender gets the next item
// or kTagDone (then counted out of remote_open). Returns whether there was any message.
bool serve_waiting_messages(MPI_Comm comm, Rank0& r0, std::vector<char>& buffer, int& remote_open,
                            const std::function<void(std::size_t, const std::string&)>& deliver) {
    bool any = false;
    for (;;) {
        int flag = 0;
        MPI_Status status;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, &status);
        if (!flag) break;
        any = true;
        const int source = status.MPI_SOURCE;
        int count = 0;
        MPI_Get_count(&status, MPI_CHAR, &count);
        buffer.resize(static_cast<std::size_t>(std::max(count, 1)));
        MPI_Recv(buffer.data(), count, MPI_CHAR, source, status.MPI_TAG, comm, MPI_STATUS_IGNORE);
        if (status.MPI_TAG == kTagRecord && count >= static_cast<int>(sizeof(std::uint64_t))) {
            std::uint64_t index = 0;
            std::memcpy(&index, buffer.data(), sizeof(index));
            deliver(static_cast<std::size_t>(index),
                    std::string(buffer.data() + sizeof(index), static_cast<std::size_t>(count) - sizeof(index)));
        } else if (status.MPI_TAG != kTagRequest) {
            continue;  // not ours (cannot happen on the private communicator)
        }
        if (auto i = r0.take()) {
            std::uint64_t index = *i;
            MPI_Send(&index, 1, MPI_UINT64_T, source, kTagAssign, comm);
        } else {
            MPI_Send(nullptr, 0, MPI_UINT64_T, source, kTagDone, comm);
            --remote_open;
        }
    }
    return any;
}

// Rank 0's calling thread: delivers the local worker's records and serves the other ranks until
// the local worker has finished and every other rank has been told kTagDone.
void coordinate(const Context& ctx, MPI_Comm comm, Rank0& r0,
                const std::function<void(std::size_t, const std::string&)>& deliver) {
    int remote_open = ctx.size - 1;  // ranks not yet told kTagDone
    std::vector<char> buffer;
    auto wait = std::chrono::microseconds(20);
    for (;;) {
        std::deque<std::pair<std::size_t, std::string>> batch;
        bool finished = false;
        {
            std::lock_guard lock(r0.mutex);
            batch.swap(r0.local_records);
            finished = r0.local_finished;
        }
        bool progressed = !batch.empty();
        for (auto& [i, record] : batch)
            deliver(i, record);
        if (serve_waiting_messages(comm, r0, buffer, remote_open, deliver)) progressed = true;

        // `finished` was read with the swap: no local record can follow it.
        if (finished && remote_open == 0) break;
        if (progressed) {
            wait = std::chrono::microseconds(20);
        } else {
            // Nothing to do: sleep until the local worker reports or a short poll interval
            // passes (MPI has no blocking wait on "a message or a condition variable").
            std::unique_lock lock(r0.mutex);
            r0.changed.wait_for(lock, wait,
                                [&] { return !r0.local_records.empty() || (r0.local_finished && !finished); });
            wait = std::min(wait * 2, std::chrono::microseconds(1000));
        }
    }
}

void distribute_mpi(const Context& ctx, std::size_t n, const std::function<std::string(std::size_t)>& process,
                    const std::function<std::string(std::size_t, const std::string&)>& on_error,
                    const std::function<void(std::size_t, const std::string&)>& on_record) {
    // A private communicator: our tags never meet the caller's messages.
    MPI_Comm comm = MPI_COMM_NULL;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm);

    if (ctx.rank != 0) {
        work_for_rank0(comm, process, on_error);
        MPI_Comm_free(&comm);
        return;
    }

    // Rank 0: this (calling) thread coordinates and calls on_record; a second thread processes
    // items from the same counter.
    Rank0 r0;
    r0.n = n;
    std::thread worker([&] { rank0_local_worker(r0, process, on_error); });

    std::exception_ptr record_error;
    auto deliver = [&](std::size_t i, const std::string& record) {
        if (record_error) return;
        try {
            on_record(i, record);
        } catch (...) {
            record_error = std::current_exception();
            r0.halt();
        }
    };

    try {
        coordinate(ctx, comm, r0, deliver);
    } catch (...) {
        r0.halt();
        worker.join();
        throw;
    }
    worker.join();
    MPI_Comm_free(&comm);
    if (record_error) std::rethrow_exception(record_error);
    if (r0.local_error) std::rethrow_exception(r0.local_error);
}

#endif  // SATIQ_MPI_ENABLED

}  // namespace

bool built_with_mpi() {
    return SATIQ_MPI_ENABLED != 0;
}

bool launched_by_mpi_launcher() {
    if (env_value("OMPI_COMM_WORLD_SIZE") || env_value("PMI_SIZE") || env_value("PMIX_RANK")) return true;
    auto tasks = slurm_step_tasks();
    return tasks && *tasks > 1;
}

int launcher_rank() {
    if (!launched_by_mpi_launcher()) return 0;
    for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
        if (auto r = env_long(name)) return static_cast<int>(*r);
    }
    return 0;
}

int launcher_size() {
    if (!launched_by_mpi_launcher()) return 1;
    auto n = env_size();
    return n && *n > 0 ? static_cast<int>(*n) : 1;
}

// Thread level: MPI_THREAD_SERIALIZED. Only one thread ever calls MPI at a time: distribute()'s
// calling thread (rank 0's second thread and TBB's workers never touch MPI), so FUNNELED would do
// as long as init() and distribute() run on the same thread; SERIALIZED also allows calling them
// from different threads (never concurrently). MULTIPLE is not needed and costs a lock on every
// call in OpenMPI (and some transports are slower or unavailable with it).
Context init() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (s.init_called) return s.ctx;
    s.init_called = true;
#if SATIQ_MPI_ENABLED
    if (!launched_by_mpi_launcher()) return s.ctx;
    if (auto n = env_size(); n && *n <= 1) return s.ctx;
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        // Ranks waiting in MPI (rank 0's coordinator between polls, ranks in MPI_Finalize while
        // rank 0 writes the report) yield their core instead of spinning. The user's setting wins.
        ::setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
        int provided = MPI_THREAD_SINGLE;
        MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
        s.started = true;
        if (provided < MPI_THREAD_FUNNELED) {
            std::fprintf(stderr, "satiq: warning: the MPI library provides no thread support (level %d)\n", provided);
        }
    }
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size <= 1) return s.ctx;  // started stays true: finalize() still finalizes
    s.ctx = Context{rank, size, true};
    measure_node(s);
#endif
    return s.ctx;
}

void finalize() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (!s.started || s.finalized) return;
    s.finalized = true;
    s.ctx.active = false;
#if SATIQ_MPI_ENABLED
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
#endif
}

void abort(int code) {
#if SATIQ_MPI_ENABLED
    bool active = false;
    {
        State& s = state();
        std::lock_guard lock(s.mutex);
        active = s.ctx.active && !s.finalized;
    }
    if (active) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    std::exit(code);
}

int local_rank_count() {
    {
        State& s = state();
        std::lock_guard lock(s.mutex);
        if (s.ctx.active && s.local_ranks > 0) return s.local_ranks;
    }
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
        if (auto n = env_long(name); n && *n > 0) return static_cast<int>(*n);
    }
    return 1;
}

int threads_per_rank(const Context& ctx) {
    const int allowed = cpus_allowed();
    if (!ctx.active) return std::max(1, allowed);
    int sharing = 0;
    {
        State& s = state();
        std::lock_guard lock(s.mutex);
        sharing = s.sharing_ranks;
    }
    if (sharing <= 0) {  // init() did not measure: assume the local ranks share all our CPUs
        sharing = allowed < cpus_online() ? 1 : local_rank_count();
    }
    return std::max(1, allowed / sharing);
}

std::string cpu_binding_note(const Context& ctx) {
    if (!ctx.active) return {};
    int used = 0, local = 0;
    {
        State& s = state();
        std::lock_guard lock(s.mutex);
        used = s.node_cpus_used;
        local = s.local_ranks;
    }
    const int online = cpus_online();
    if (used <= 0 || used >= online || local >= online) return {};
    return "the " + std::to_string(local) + " MPI rank(s) on this node are bound to " + std::to_string(used) +
           " of its " + std::to_string(online) + " CPUs; start mpirun with --bind-to none to use them all";
}

void distribute(const Context& ctx, std::size_t n, const std::function<std::string(std::size_t)>& process,
                const std::function<std::string(std::size_t, const std::string& what)>& on_error,
                const std::function<void(std::size_t, const std::string&)>& on_record) {
    if (ctx.active) {
#if SATIQ_MPI_ENABLED
        int initialized = 0, finalized = 0;
        MPI_Initialized(&initialized);
        MPI_Finalized(&finalized);
        if (!initialized || finalized) throw std::logic_error("satiq::mpi::distribute: MPI is not initialized");
        distribute_mpi(ctx, n, process, on_error, on_record);
        return;
#else
        throw std::logic_error("satiq::mpi::distribute: an active context in a build without MPI");
#endif
    }
    for (std::size_t i = 0; i < n; ++i)
        on_record(i, safe_process(i, process, on_error));
}

}  // namespace satiq::mpi
