namespace FastRcnn.Distributed;

/// <summary>
/// The communicator of this process: MPI when an MPI launcher (<c>mpiexec -n P</c>, P ≥ 2) started it, else
/// <see cref="SingleProcess"/>, which loads nothing.
/// </summary>
public static class Communicators
{
    /// <summary>
    /// P as the MPI launcher announced it to this process in <c>PMI_SIZE</c> (MPICH's Hydra <c>mpiexec</c> and other
    /// PMI launchers); 1 without it.
    /// </summary>
    public static int LaunchedSize()
    {
        return Environment.GetEnvironmentVariable("PMI_SIZE") is { Length: > 0 } text && int.TryParse(text, out int size) && size > 0 ? size : 1;
    }

    /// <summary>
    /// MPI (<see cref="MpiCommunicator.Open"/>) when this process is one of P ≥ 2 started by an MPI launcher; otherwise
    /// <see cref="SingleProcess.Instance"/>, with nothing loaded or required.
    /// </summary>
    /// <exception cref="NotSupportedException">Started by Open MPI's <c>mpirun</c>, whose ABI is not supported.</exception>
    public static ICommunicator FromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 } ompi && ompi != "1")
            throw new NotSupportedException("Started by Open MPI's mpirun: only MPI libraries of the MPICH ABI (MPICH, Intel MPI, MVAPICH) are supported; launch with MPICH's mpiexec.");
        return LaunchedSize() > 1 ? MpiCommunicator.Open() : SingleProcess.Instance;
    }
}
