"""SRGAN generator and discriminator: shapes, architecture, parameter counts, bad input."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from monai_mammo.networks.nets import SRGANDiscriminator, SRGANGenerator


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(("scale", "n_up"), [(1, 0), (2, 1), (4, 2), (8, 3)])
def test_generator_output_shape(scale, n_up):
    net = SRGANGenerator(scale_factor=scale, num_channels=8, num_res_blocks=1)
    assert len(net.upsample) == n_up
    assert net(torch.rand(2, 1, 12, 10)).shape == (2, 1, 12 * scale, 10 * scale)


def test_generator_channels_and_3d():
    net = SRGANGenerator(
        spatial_dims=3, in_channels=2, out_channels=3, scale_factor=2, num_channels=4, num_res_blocks=1
    )
    assert net(torch.rand(1, 2, 4, 5, 6)).shape == (1, 3, 8, 10, 12)


# Exact counts (documented in docs/source/networks/srgan.md): 64 channels, 8 residual blocks, 1 channel in/out.
# head 5,249 (conv 9x9 + PReLU) + 8 x 74,113 (block) + 37,056 (conv-BN) + 147,713 per x2 upsampling + 5,185 tail
@pytest.mark.parametrize(("scale", "count"), [(2, 788_107), (4, 935_820)])
def test_generator_parameter_count(scale, count):
    assert n_params(SRGANGenerator(scale_factor=scale)) == count


def test_generator_architecture():
    net = SRGANGenerator(scale_factor=4)
    assert (net.head[0].kernel_size, net.head[0].out_channels) == ((9, 9), 64)
    assert isinstance(net.head[1], nn.PReLU)
    assert len(net.res_blocks) == 8
    block = net.res_blocks[0]
    assert [type(m) for m in block.children()] == [nn.Conv2d, nn.BatchNorm2d, nn.PReLU, nn.Conv2d, nn.BatchNorm2d]
    up_conv = net.upsample[0][0].conv_block
    assert (up_conv.kernel_size, up_conv.out_channels) == ((3, 3), 256)
    assert isinstance(net.upsample[0][1], nn.PReLU)
    assert (net.tail.kernel_size, net.tail.out_channels) == ((9, 9), 1)


def test_generator_without_normalisation_as_edsr():
    net = SRGANGenerator(scale_factor=2, num_channels=8, num_res_blocks=2, norm=None)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    block = net.res_blocks[0]
    assert [type(m) for m in block.children()] == [nn.Conv2d, nn.Identity, nn.PReLU, nn.Conv2d, nn.Identity]
    x = torch.rand(1, 1, 8, 8)  # without batch statistics, train and eval modes give the same output
    torch.testing.assert_close(net.train()(x), net.eval()(x))


def test_generator_long_skip():
    # with the residual trunk zeroed, the long skip carries the head's features to the upsampler unchanged
    net = SRGANGenerator(scale_factor=1, num_channels=4, num_res_blocks=1).eval()
    for p in net.post_res.parameters():
        nn.init.zeros_(p)
    net.post_res[1].running_mean.zero_()
    x = torch.rand(1, 1, 8, 8)
    torch.testing.assert_close(net(x), net.tail(net.head(x)))


@pytest.mark.parametrize("scale", [3, 6, 0, -2, 2.5])
def test_generator_bad_scale(scale):
    with pytest.raises(ValueError, match="scale_factor must be a power of 2"):
        SRGANGenerator(scale_factor=scale)


def test_generator_wrong_channels():
    net = SRGANGenerator(scale_factor=2, num_channels=4, num_res_blocks=1)
    with pytest.raises(ValueError, match="3 channels, expected in_channels=1"):
        net(torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="4 dims"):
        net(torch.rand(1, 8, 8))


@pytest.mark.parametrize("size", [16, 24, 40, 97])
def test_discriminator_any_size(size):
    net = SRGANDiscriminator(channels=(8, 8, 16, 16, 16, 16, 32, 32), hidden_features=16)
    assert net(torch.rand(2, 1, size, size + 3)).shape == (2, 1)


def test_discriminator_too_small():
    net = SRGANDiscriminator()
    with pytest.raises(ValueError, match=">= 16"):
        net(torch.rand(1, 1, 15, 64))


def test_discriminator_architecture_and_count():
    net = SRGANDiscriminator()
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.stride[0] for c in convs] == [1, 2, 1, 2, 1, 2, 1, 2]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.features) == 7  # none after the first conv
    assert {m.negative_slope for m in net.modules() if isinstance(m, nn.LeakyReLU)} == {0.01}
    linears = [m for m in net.classifier if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(512 * 36, 1024), (1024, 1)]
    assert n_params(net) == 23_562_497  # 18,875,392 of them in the first linear layer


def test_discriminator_slope_is_configurable():
    net = SRGANDiscriminator(channels=(4, 4), strides=(1, 2), negative_slope=0.2, hidden_features=4)
    assert {m.negative_slope for m in net.modules() if isinstance(m, nn.LeakyReLU)} == {0.2}


def test_discriminator_bad_arguments():
    with pytest.raises(ValueError, match="equal length"):
        SRGANDiscriminator(channels=(4, 4), strides=(1,))
    with pytest.raises(ValueError, match="in_channels=1"):
        SRGANDiscriminator(channels=(4,), strides=(1,), hidden_features=4)(torch.rand(1, 2, 16, 16))
