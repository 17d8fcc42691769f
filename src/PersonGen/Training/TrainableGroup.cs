using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace PersonGen.Training;

/// <summary>An optimizer parameter group: trainable tensors sharing one learning rate.</summary>
public sealed record TrainableGroup(string Name, double LearningRate, IReadOnlyList<Parameter> Parameters);
