namespace PersonGen.IO;

/// <summary>
/// One component of a diffusers model folder, as listed in <c>model_index.json</c>
/// (e.g. <c>"unet": ["diffusers", "UNet2DConditionModel"]</c>).
/// </summary>
/// <param name="Name">Component name, also the name of its sub-folder (<c>unet</c>, <c>text_encoder</c>).</param>
/// <param name="Library">Library that defines the class (<c>diffusers</c>, <c>transformers</c>).</param>
/// <param name="ClassName">Class name in that library (<c>UNet2DConditionModel</c>).</param>
/// <param name="Directory">Absolute path of the component folder; it may not exist (see <see cref="ModelFolder.ComponentDirectory"/>).</param>
public sealed record ComponentInfo(string Name, string Library, string ClassName, string Directory);
