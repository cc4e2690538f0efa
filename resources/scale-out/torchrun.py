#!/usr/bin/env python3
"""torchrun (torch.distributed.run), as run.sh starts it. Identical to `torchrun`, except that on
torch 1.13 under Python >= 3.11 (Debian's python3-torch) it first repairs
torch.distributed.elastic's Std.from_str: Python 3.11 no longer iterates a Flag's zero and
multi-bit members, so from_str("0") — the default of --redirects and --tee — returns None and
torchrun dies before starting any process. Other versions are left untouched."""
from torch.distributed.elastic.multiprocessing import api

if api.Std.from_str("0") is None:
    _original = api.Std.from_str.__func__

    def _from_str(cls, vm):
        if isinstance(vm, str) and vm.strip() in ("0", "1", "2", "3"):
            return cls(int(vm))
        if isinstance(vm, str) and ":" in vm:
            _original(cls, vm)  # its validation
            return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        return _original(cls, vm)

    api.Std.from_str = classmethod(_from_str)

from torch.distributed.run import main  # noqa: E402

if __name__ == "__main__":
    main()
