using FastRcnn.Data;
using FastRcnn.Evaluation;

namespace FastRcnn.Tests.Evaluation;

internal static class EvaluationTestData
{
    public static BoundingBox Box(float x1, float y1, float x2, float y2) => new(x1, y1, x2, y2);

    public static ObjectAnnotation Object(int cls, BoundingBox box, bool difficult = false, bool crowd = false) =>
        new(box, cls, difficult, crowd);

    public static ImageRecord Image(string id, params ObjectAnnotation[] objects) => new(id, id + ".jpg", 100, 100, objects);

    public static Detection Det(string image, int cls, float score, BoundingBox box) => new(image, cls, score, box);
}
