"""Per shared model (the int8 .tflite, so that figures compare with TFLM's) and emulated core: flash split into
weights (.rodata: weights, biases, multipliers, parameter structs) and code (.text), arena, stack
(-fstack-usage), instructions per inference counted exactly by the QEMU plugin, and instructions per MAC."""
import argparse
import tempfile

from _shared import mlperf
import mcu_codegen
from mcu_codegen import boards, target

CORES = ["mps2-an385-m0plus", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "qemu-virt-rv32imc",
         "qemu-virt-rv32imac", "qemu-virt-rv32imafc"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--boards", default=",".join(CORES), help="comma-separated emulated boards (default: all)")
    names = parser.parse_args().boards.split(",")
    print(f"{'model':5} {'board':18} {'core':14} {'weights B':>9} {'code B':>7} {'arena B':>8} {'stack B':>7} "
          f"{'instructions':>12} {'per MAC':>7}")
    for case in mlperf.CASES:
        model = mcu_codegen.Converter.from_tflite(mlperf.tflite_path(case)).convert()
        with tempfile.TemporaryDirectory() as work:
            project = model.save(f"{work}/project")
            x = mlperf.ref(case)["inputs_int8"]
            for name in names:
                board = boards.load(name)
                s = target.sizes(project, model.name, board, model.arena_size, work)
                _, counts = target.run_on_board(project, model.report, board,
                                                {model.report["inputs"][0]["name"]: x}, count=True)
                mean = sum(counts) / len(counts)
                print(f"{case:5} {name:18} {board.core:14} {s.weights:9d} {s.code:7d} {s.arena:8d} {s.stack:7d} "
                      f"{mean:12.0f} {mean / model.report['macs']:7.2f}")


if __name__ == "__main__":
    main()
