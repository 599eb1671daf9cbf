// fleet_generator: writes a generated fleet (tests/fleet_generator.hpp) for timing `aicbench fleet`
// and looking at its output by hand.
//   fleet_generator --template RESULT.json --out DIR [--nodes 1250] [--gpus-per-node 8] [--seed 1]
//                   [--plant slow=3,hot=2,...] [--planted FILE.csv]
#include <fstream>
#include <iostream>
#include <sstream>

#include <cxxopts.hpp>

#include "reports/result_file.hpp"
#include "tests/fleet_generator.hpp"

int main(int argc, char** argv) {
  using namespace aicbench::testing;
  cxxopts::Options options("fleet_generator", "GPU-looking result files of a fleet, from one real result file.");
  options.add_options()
      ("template", "a real result file (e.g. of aicbench run --backend cpu)", cxxopts::value<std::string>())
      ("out", "directory for the files", cxxopts::value<std::string>())
      ("nodes", "nodes", cxxopts::value<size_t>()->default_value("1250"))
      ("gpus-per-node", "GPUs (files) per node", cxxopts::value<size_t>()->default_value("8"))
      ("seed", "random seed", cxxopts::value<uint64_t>()->default_value("1"))
      ("node-sigma", "log-normal sigma of node speed", cxxopts::value<double>()->default_value("0.01"))
      ("gpu-sigma", "log-normal sigma of GPU speed within a node", cxxopts::value<double>()->default_value("0.01"))
      ("noise-sigma", "log-normal sigma of one measurement", cxxopts::value<double>()->default_value("0.005"))
      ("plant", "planted nodes, kind=count,...: slow, failing, erroring, hot, throttled, missing_gpu, "
                "missing_benchmark, odd_driver", cxxopts::value<std::string>()->default_value(""))
      ("planted", "write the planted nodes here (CSV: node,kind,gpu,benchmark,amount)", cxxopts::value<std::string>())
      ("node-files", "one file per node holding all its GPUs (result format 3)")
      ("h,help", "help");
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help") || !args.count("template") || !args.count("out")) {
      std::cout << options.help() << "\n";
      return args.count("help") ? 0 : 2;
    }
    FleetSpec spec;
    spec.nodes = args["nodes"].as<size_t>();
    spec.gpus_per_node = args["gpus-per-node"].as<size_t>();
    spec.seed = args["seed"].as<uint64_t>();
    spec.node_sigma = args["node-sigma"].as<double>();
    spec.gpu_sigma = args["gpu-sigma"].as<double>();
    spec.noise_sigma = args["noise-sigma"].as<double>();
    spec.node_files = args.count("node-files") > 0;
    std::stringstream plants(args["plant"].as<std::string>());
    for (std::string item; std::getline(plants, item, ',');) {
      const size_t eq = item.find('=');
      bool known = false;
      for (Plant kind : kAllPlants) {
        if (eq != std::string::npos && item.substr(0, eq) == to_string(kind)) {
          spec.plants[kind] = std::stoul(item.substr(eq + 1));
          known = true;
        }
      }
      if (!known) throw std::runtime_error("--plant: '" + item + "' is not kind=count");
    }
    const aicbench::ResultFile tmpl = aicbench::load_result_file(args["template"].as<std::string>());
    const GeneratedFleet fleet = generate_fleet(tmpl.json, spec, args["out"].as<std::string>());
    std::cout << "fleet_generator: " << fleet.files.size() << " files, " << fleet.bytes / 1e6 << " MB, "
              << fleet.planted.size() << " planted nodes in " << args["out"].as<std::string>() << "\n";
    if (args.count("planted")) {
      std::ofstream out(args["planted"].as<std::string>());
      out << "node,kind,gpu,benchmark,amount\n";
      for (const PlantedNode& p : fleet.planted) {
        out << p.node << "," << to_string(p.kind) << "," << p.gpu << "," << p.benchmark << "," << p.amount << "\n";
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "fleet_generator: " << e.what() << "\n";
    return 2;
  }
}
