// A tiny program for test_batch_mpi: distributes ITEMS items with satiq::mpi::distribute() and, on
// rank 0, prints one line per record. Run it alone (one process) or under mpirun.
//
//   mpi_distribute_probe [--items N] [--bytes-per-item B] [--sleep-ms S] [--throw-at K]
//                        [--throw-in-record-at K]
//
// process(i) sleeps S ms (so that every rank gets work), then returns
// {"i": i, "rank": r, "payload": i*B bytes}; process(K) throws, and on_error's record is
// {"i": K, "rank": r, "error": what}. Rank 0 prints
//   start active=A size=S built_with_mpi=M
//   record i=I rank=R payload=P intact=0|1 error=0|1
//   done records=N
// and exits 3 when on_record runs on another thread than main's. With --throw-in-record-at K,
// on_record throws at item K: rank 0 prints "distribute threw: ..." and exits 4 (other ranks 0).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "satiq/pipeline/ops/batch_mpi.hpp"

namespace {

char payload_char(std::size_t i) {
    return static_cast<char>('a' + i % 26);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t items = 50, bytes_per_item = 1000;
    long sleep_ms = 20;
    long long throw_at = -1;
    long long throw_in_record_at = -1;
    for (int a = 1; a + 1 < argc; a += 2) {
        const std::string flag = argv[a];
        const char* value = argv[a + 1];
        if (flag == "--items") {
            items = std::strtoull(value, nullptr, 10);
        } else if (flag == "--bytes-per-item") {
            bytes_per_item = std::strtoull(value, nullptr, 10);
        } else if (flag == "--sleep-ms") {
            sleep_ms = std::strtol(value, nullptr, 10);
        } else if (flag == "--throw-at") {
            throw_at = std::strtoll(value, nullptr, 10);
        } else if (flag == "--throw-in-record-at") {
            throw_in_record_at = std::strtoll(value, nullptr, 10);
        } else {
            std::fprintf(stderr, "mpi_distribute_probe: unknown flag %s\n", flag.c_str());
            return 2;
        }
    }

    const satiq::mpi::Context ctx = satiq::mpi::init();
    if (!ctx.active && satiq::mpi::launched_by_mpi_launcher() && satiq::mpi::launcher_size() > 1) {
        std::fprintf(stderr, "mpi_distribute_probe: started by an MPI launcher but %s; rank %d works alone\n",
                     satiq::mpi::built_with_mpi() ? "MPI is inactive" : "built without MPI",
                     satiq::mpi::launcher_rank());
        if (satiq::mpi::launcher_rank() != 0) return 0;
    }
    if (ctx.rank == 0) {
        std::printf("start active=%d size=%d built_with_mpi=%d\n", ctx.active ? 1 : 0, ctx.size,
                    satiq::mpi::built_with_mpi() ? 1 : 0);
        const std::string note = satiq::mpi::cpu_binding_note(ctx);
        std::fprintf(stderr, "threads_per_rank=%d local_ranks=%d%s%s\n", satiq::mpi::threads_per_rank(ctx),
                     satiq::mpi::local_rank_count(), note.empty() ? "" : " note: ", note.c_str());
    }
    const auto main_thread = std::this_thread::get_id();
    bool wrong_thread = false;
    std::size_t records = 0;
    try {
        satiq::mpi::distribute(
            ctx, items,
            [&](std::size_t i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
                if (static_cast<long long>(i) == throw_at)
                    throw std::runtime_error("probe failure at " + std::to_string(i));
                return nlohmann::json{
                    {"i", i}, {"rank", ctx.rank}, {"payload", std::string(i * bytes_per_item, payload_char(i))}}
                    .dump();
            },
            [&](std::size_t i, const std::string& what) {
                return nlohmann::json{{"i", i}, {"rank", ctx.rank}, {"error", what}}.dump();
            },
            [&](std::size_t i, const std::string& record) {
                if (std::this_thread::get_id() != main_thread) wrong_thread = true;
                const auto j = nlohmann::json::parse(record);
                const bool error = j.contains("error");
                const std::string payload = error ? std::string() : j.at("payload").get<std::string>();
                const bool intact = j.at("i").get<std::size_t>() == i &&
                                    (error || (payload.size() == i * bytes_per_item &&
                                               payload.find_first_not_of(payload_char(i)) == std::string::npos));
                std::printf("record i=%zu rank=%d payload=%zu intact=%d error=%d\n", i, j.at("rank").get<int>(),
                            payload.size(), intact ? 1 : 0, error ? 1 : 0);
                ++records;
                if (static_cast<long long>(i) == throw_in_record_at) throw std::runtime_error("on_record failure");
            });
    } catch (const std::exception& e) {
        std::printf("distribute threw: %s\n", e.what());
        std::fflush(stdout);
        satiq::mpi::finalize();
        return 4;
    }
    if (ctx.rank == 0) std::printf("done records=%zu\n", records);
    std::fflush(stdout);
    satiq::mpi::finalize();
    if (wrong_thread) {
        std::fprintf(stderr, "mpi_distribute_probe: on_record ran on another thread\n");
        return 3;
    }
    return 0;
}
