using PersonGen.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace PersonGen.Training;

/// <summary>
/// The denoising loss on a concept's photos for the real UNet and text encoder: each micro-batch draws images
/// uniformly with replacement, builds their prompts (prefix from augmentation + instance prompt), encodes them with
/// the (possibly trained) text encoder and takes the masked ε/v MSE; with prior preservation the same loss on class
/// images with the class prompt is added (weight <see cref="PriorLossWeight"/>).
/// </summary>
internal sealed class ConceptObjective(StableDiffusionModel model, ConceptDataset instances, Func<Generator, string> instancePrompt,
    int batchSize, ConceptDataset? classImages, string? classPrompt) : ITrainingObjective, IDisposable
{
    public const double PriorLossWeight = 1.0;
    private readonly DiffusionLoss _loss = DiffusionLoss.ForScheduler(model.Scheduler);

    public Tensor Loss(long step, int microStep, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var loss = BatchLoss(instances, instancePrompt, generator);
        if (classImages is not null) loss = loss + PriorLossWeight * BatchLoss(classImages, _ => classPrompt!, generator);
        return loss.MoveToOuterDisposeScope();
    }

    private Tensor BatchLoss(ConceptDataset dataset, Func<Generator, string> prompt, Generator generator)
    {
        using var scope = torch.NewDisposeScope();
        var latents = new List<Tensor>();
        var masks = new List<Tensor?>();
        var prompts = new List<string>();
        for (int i = 0; i < batchSize; i++)
        {
            var (sample, mask, prefix) = dataset.Draw(ConceptDataset.RandomInt(generator, 0, dataset.Count), generator);
            latents.Add(sample);
            masks.Add(mask);
            prompts.Add(prefix + prompt(generator));
        }
        var batch = torch.cat(latents, 0);
        Tensor? maskBatch = masks.All(m => m is null) ? null
            : torch.cat(masks.Select((m, i) => m ?? torch.ones(1, 1, batch.shape[2], batch.shape[3])).ToList(), 0).to(batch.device);
        var ids = torch.tensor(prompts.SelectMany(p => model.Tokenizer.Encode(p)).Select(id => (long)id).ToArray(),
            [prompts.Count, model.Tokenizer.MaxLength], device: model.Compute.Device);
        var embeddings = model.TextEncoder.forward(ids).LastHiddenState;
        return _loss.Compute((noisy, t, context) => model.Unet.forward(noisy, t.to(noisy.device), context), batch, embeddings, generator, maskBatch)
            .MoveToOuterDisposeScope();
    }

    public void Dispose() => _loss.Dispose();
}
