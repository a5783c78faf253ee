namespace NasFlatness.Data;

/// <summary>Which CIFAR dataset a folder holds.</summary>
public enum CifarKind
{
    /// <summary>CIFAR-10 binary version: <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>, <c>test_batch.bin</c>; 3,073-byte records (label, 3,072 pixels).</summary>
    Cifar10,

    /// <summary>CIFAR-100 binary version: <c>train.bin</c>, <c>test.bin</c>; 3,074-byte records (coarse label, fine label, 3,072 pixels). The fine label is used.</summary>
    Cifar100,
}
