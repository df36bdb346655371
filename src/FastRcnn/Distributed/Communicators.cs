namespace FastRcnn.Distributed;

/// <summary>
/// The communicator of this process: MPI when an MPI launcher (<c>mpiexec -n P</c>, P ≥ 2) started it, else
/// <see cref="SingleProcess"/>, which loads nothing.
/// </summary>
public static class Communicators
{
    /// <summary>
    /// P as the launcher announced it: MPICH's Hydra and PMI-based launchers set <c>PMI_SIZE</c>; Hydra also
    /// <c>MPI_LOCALNRANKS</c> … The number is read from <c>PMI_SIZE</c>; 1 without one.
    /// </summary>
    public static int LaunchedSize()
    {
        foreach (var name in new[] { "PMI_SIZE", "PMIX_SIZE" })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } text && int.TryParse(text, out int size) && size > 0) return size;
        }
        return 1;
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
