namespace PersonGen.Models;

/// <summary>
/// A set of weight changes applied in place to a model's module tree (a fine-tuned concept). Switching it off
/// puts the base weights back into the affected parameters; switching it on puts the personalized ones back,
/// so one model serves both the concept and the untouched superclass branch.
/// </summary>
public interface IWeightDelta
{
    /// <summary>Whether the model currently computes with the personalized weights.</summary>
    bool Enabled { get; set; }

    /// <summary>Switches only the weights of one model component (<c>unet</c> or <c>text_encoder</c>).</summary>
    void SetEnabled(string component, bool enabled);
}
