// `import Tandem` gives a Swift program the whole stack: tensors and autograd, layers,
// optimizers, data, the communicators and the Trainer.
@_exported import Data
@_exported import Distributed
@_exported import NN
@_exported import Optim
@_exported import Tensor
@_exported import Trainer
