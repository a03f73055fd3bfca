// placeholder until the command is written (this session)
#include "commands.hpp"

namespace satiq::cli {
void add_sweep_command(CLI::App&, Runner&) {}
}  // namespace satiq::cli
