namespace FastRcnn.Modeling;

/// <summary>Which parts of a <see cref="TwoStageModel"/> a training step trains (the steps of Faster R-CNN's alternating schedule).</summary>
public enum TrainingPhase
{
    /// <summary>Everything the architecture has: Fast R-CNN's RoI heads on external proposals; Faster R-CNN's RPN and RoI heads together on the RPN's proposals (approximate joint training).</summary>
    Joint,

    /// <summary>The region proposal network alone (its losses only; the RoI heads do not run).</summary>
    RegionProposals,

    /// <summary>The RoI heads alone, on the external proposals each training image carries (the RPN does not run).</summary>
    Detection,
}
