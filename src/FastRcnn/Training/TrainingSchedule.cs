namespace FastRcnn.Training;

/// <summary>How a Faster R-CNN model is trained (Ren et al. 2015, §3.2); Fast R-CNN has one stage.</summary>
public enum TrainingSchedule
{
    /// <summary>
    /// Approximate joint training: every SGD step minimises the sum of the RPN's and the RoI heads' losses; the RoI
    /// heads train on the RPN's current proposals, treated as constants (no gradient flows through their coordinates).
    /// </summary>
    Joint,

    /// <summary>
    /// The paper's 4-step alternating training: (1) RPN; (2) Fast R-CNN on the step-1 RPN's proposals, from the
    /// initial weights again; (3) RPN on step 2's trunk, shared convs frozen; (4) the Fast R-CNN head on step 3's
    /// proposals, shared convs frozen. The result shares one trunk.
    /// </summary>
    Alternating,
}
