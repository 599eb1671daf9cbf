#include "collectives/cpu/shm_window.hpp"

#if AICBENCH_WITH_MPI
#include "collectives/cpu/mpi_algorithms.hpp"  // AICBENCH_MPI_CHECK

namespace aicbench::coll {

SharedWindow::SharedWindow(MPI_Comm node_comm, size_t bytes_per_rank) {
  int ranks = 0;
  AICBENCH_MPI_CHECK(MPI_Comm_size(node_comm, &ranks));
  MPI_Info info;
  AICBENCH_MPI_CHECK(MPI_Info_create(&info));
  AICBENCH_MPI_CHECK(MPI_Info_set(info, "alloc_shared_noncontig", "true"));
  void* mine = nullptr;
  const int status = MPI_Win_allocate_shared(static_cast<MPI_Aint>(bytes_per_rank), 1, info, node_comm, &mine, &win_);
  MPI_Info_free(&info);
  AICBENCH_MPI_CHECK(status);
  segments_.resize(size_t(ranks));
  for (int p = 0; p < ranks; ++p) {
    MPI_Aint size = 0;
    int disp = 0;
    void* base = nullptr;
    AICBENCH_MPI_CHECK(MPI_Win_shared_query(win_, p, &size, &disp, &base));
    segments_[size_t(p)] = static_cast<std::byte*>(base);
  }
  AICBENCH_MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, win_));
}

SharedWindow::~SharedWindow() {
  if (win_ == MPI_WIN_NULL) return;
  MPI_Win_unlock_all(win_);
  MPI_Win_free(&win_);
}

}  // namespace aicbench::coll
#endif
