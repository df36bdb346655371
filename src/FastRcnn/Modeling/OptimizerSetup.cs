using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// The solver of the original release (SPEC §5): SGD with momentum 0.9 and weight decay 0.0005 on the
/// weights; biases learn at twice the rate and are not decayed (Caffe's <c>lr_mult: 2, decay_mult: 0</c>).
/// Frozen parameters (requires_grad false) are left out.
/// </summary>
public static class OptimizerSetup
{
    /// <summary>
    /// SGD over the trainable parameters of <paramref name="model"/> in two groups: weights (every
    /// parameter whose name does not end in <c>.bias</c>) with <paramref name="learningRate"/> and
    /// <paramref name="weightDecay"/>; biases with 2·<paramref name="learningRate"/> and no decay.
    /// Learning-rate schedulers scale both groups from their own initial rates, so the ratio holds.
    /// </summary>
    public static SGD Sgd(nn.Module model, double learningRate, double momentum = 0.9, double weightDecay = 0.0005)
    {
        ArgumentNullException.ThrowIfNull(model);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        static bool IsBias(string name) => name == "bias" || name.EndsWith(".bias", StringComparison.Ordinal);
        var weights = trainable.Where(p => !IsBias(p.name)).Select(p => p.parameter).ToList();
        var biases = trainable.Where(p => IsBias(p.name)).Select(p => p.parameter).ToList();
        var groups = new List<SGD.ParamGroup>
        {
            new(weights, lr: learningRate, momentum: momentum, weight_decay: weightDecay),
            new(biases, lr: 2 * learningRate, momentum: momentum, weight_decay: 0),
        };
        return optim.SGD(groups.Where(g => g.Parameters.Any()), learningRate, momentum, weight_decay: weightDecay);
    }
}
