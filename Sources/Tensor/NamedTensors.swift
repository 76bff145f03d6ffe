/// Tensors with their PyTorch state_dict names ("1.weight"), in order: parameters, optimizer
/// state, safetensors contents.
public typealias NamedTensors = [(name: String, tensor: Tensor)]
