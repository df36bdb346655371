using FastRcnn.Data.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Data.Transforms;

public class FlipTests
{
    [Fact]
    public void Boxes_flip_against_hand_values()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[]
        {
            10, 20, 30, 40,      // → (70, 20, 90, 40) in a 100-wide image
            0, 0, 100, 50,       // the whole width stays the whole width
            49.5f, 1, 50.5f, 2,  // centred box stays centred
            0, 5, 0, 6,          // zero width at the left edge moves to the right edge
        }, new long[] { 4, 4 });
        var f = Flip.Boxes(boxes, 100).data<float>().ToArray();
        Assert.Equal(new float[] { 70, 20, 90, 40, 0, 0, 100, 50, 49.5f, 1, 50.5f, 2, 100, 5, 100, 6 }, f);
    }

    [Fact]
    public void Class_specific_boxes_flip_each_group_of_four()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new long[] { 1, 8 });
        Assert.Equal(new float[] { 7, 2, 9, 4, 3, 6, 5, 8 }, Flip.Boxes(boxes, 10).data<float>().ToArray());
    }

    [Fact]
    public void Flipping_twice_is_the_identity_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(3);
        const int W = 637;
        var b = new float[4 * 500];
        for (int i = 0; i < 500; i++)
        {
            // coordinates on a 1/64 grid (exactly representable after W − x)
            float x1 = rng.Next(0, W * 64) / 64f, x2 = Math.Min(W, x1 + rng.Next(1, 200 * 64) / 64f);
            b[4 * i] = x1; b[4 * i + 1] = rng.Next(0, 400); b[4 * i + 2] = x2; b[4 * i + 3] = b[4 * i + 1] + 10;
        }
        var boxes = tensor(b, new long[] { 500, 4 });
        var once = Flip.Proposals(boxes, W);
        Assert.Equal(b, Flip.Boxes(once, W).data<float>().ToArray());
        // widths are preserved and boxes stay valid
        TensorAssert.Equal(boxes[.., 2] - boxes[.., 0], once[.., 2] - once[.., 0]);

        var img = randint(0, 256, new long[] { 3, 5, 7 }).to_type(ScalarType.Byte);
        TensorAssert.Equal(img, Flip.Image(Flip.Image(img)));
        var batch = rand(2, 3, 4, 6);
        TensorAssert.Equal(batch, Flip.Image(Flip.Image(batch)));
    }

    [Fact]
    public void Image_flip_moves_column_x_to_w_minus_1_minus_x_consistently_with_boxes()
    {
        using var scope = NewDisposeScope();
        // a filled box covering columns [2, 5) and rows [1, 3) of a 4×9 image
        var img = zeros(1, 4, 9);
        img[.., 1..3, 2..5] = tensor(1f);
        var flipped = Flip.Image(img);
        var fb = Flip.Boxes(tensor(new float[] { 2, 1, 5, 3 }, new long[] { 1, 4 }), 9).data<float>().ToArray();
        Assert.Equal(new float[] { 4, 1, 7, 3 }, fb);
        for (int x = 0; x < 9; x++)
            Assert.Equal(x >= fb[0] && x < fb[2] ? 1f : 0f, flipped[0, 1, x].item<float>());
        Assert.Equal(img[0, 2, 8].item<float>(), flipped[0, 2, 0].item<float>());
    }

    [Fact]
    public void Bad_inputs_are_rejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Flip.Boxes(ones(2, 5), 10));
        Assert.Throws<ArgumentException>(() => Flip.Boxes(ones(new long[] { 2, 4 }, ScalarType.Int64), 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Flip.Boxes(ones(2, 4), 0));
        Assert.Throws<ArgumentException>(() => Flip.Image(ones(4, 4)));
        Assert.Equal(new long[] { 0, 4 }, Flip.Boxes(zeros(0, 4), 10).shape);
    }
}
